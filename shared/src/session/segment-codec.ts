import { type LogEntry, logEntrySchema } from './log-entry.ts';

/** A segment is JSON lines, one entry each; it is immutable once written. */
export function encodeSegment(entries: LogEntry[]): string {
  let out = '';
  for (const entry of entries) out += `${JSON.stringify(entry)}\n`;
  return out;
}

export class CorruptSegmentError extends Error {
  override name = 'CorruptSegmentError';
}

/** Every line is validated: a damaged blob is reported with its key, never half-read. */
export function decodeSegment(key: string, bytes: Uint8Array): LogEntry[] {
  const text = Buffer.from(bytes).toString('utf8');
  const entries: LogEntry[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new CorruptSegmentError(`${key}: truncated (no final newline)`);
  for (let i = 0; i < lines.length - 1; i++) {
    let value: unknown;
    try {
      value = JSON.parse(lines[i]!);
    } catch {
      throw new CorruptSegmentError(`${key}: line ${i + 1} is not JSON`);
    }
    const parsed = logEntrySchema.safeParse(value);
    if (!parsed.success) throw new CorruptSegmentError(`${key}: line ${i + 1} is not a log entry`);
    entries.push(parsed.data);
  }
  return entries;
}
