import { sealWithDigest, unsealLines } from './blob-checksum.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { type LogEntry, logEntrySchema } from './log-entry.ts';
import { parseSegmentName } from './session-keys.ts';

/**
 * A segment is JSON lines, one entry each, sealed by a checksum trailer (blob-checksum.ts); it is
 * immutable once written.
 */
export function encodeSegment(entries: LogEntry[]): string {
  return sealWithDigest(entryLines(entries)).text;
}

/** The segment's text and its content sha256, which a stamped segment name carries. */
export function encodeSegmentWithDigest(entries: LogEntry[]): { text: string; sha256: string } {
  return sealWithDigest(entryLines(entries));
}

export function entryLines(entries: LogEntry[]): string {
  let out = '';
  for (const entry of entries) out += `${JSON.stringify(entry)}\n`;
  return out;
}

/** @deprecated the name before every log blob got the same error; use `CorruptBlobError`. */
export { CorruptBlobError as CorruptSegmentError } from './corrupt-blob-error.ts';

/**
 * Every line is validated: a damaged blob is reported with its key, never half-read. When the key
 * is a stamped segment name, the seq range and checksum it promises are checked too, so a blob
 * that is intact but is not the one the head points at is caught as well.
 */
export function decodeSegment(key: string, bytes: Uint8Array): LogEntry[] {
  const { body, sha256 } = unsealLines(key, bytes);
  const entries = parseEntryLines(key, body, 0);
  const name = parseSegmentName(key.slice(key.lastIndexOf('/') + 1).replace(/\.jsonl$/, ''));
  if (name) {
    if (name.sha256Prefix !== undefined && !sha256.startsWith(name.sha256Prefix)) {
      throw new CorruptBlobError(
        key,
        'checksum',
        `content sha256 ${sha256} does not match its name`,
      );
    }
    const first = entries[0]?.seq;
    const last = entries.at(-1)?.seq;
    if (first !== name.first || last !== name.last || !contiguous(entries)) {
      throw new CorruptBlobError(
        key,
        'malformed',
        `holds seqs ${first}..${last}, its name says ${name.first}..${name.last}`,
      );
    }
  }
  return entries;
}

/** Parses JSON lines of entries; `lineOffset` keeps line numbers true to the blob in messages. */
export function parseEntryLines(key: string, body: string, lineOffset: number): LogEntry[] {
  const entries: LogEntry[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    let value: unknown;
    try {
      value = JSON.parse(lines[i]!);
    } catch {
      throw new CorruptBlobError(key, 'malformed', `line ${i + 1 + lineOffset} is not JSON`);
    }
    const parsed = logEntrySchema.safeParse(value);
    if (!parsed.success) {
      throw new CorruptBlobError(key, 'malformed', `line ${i + 1 + lineOffset} is not a log entry`);
    }
    entries.push(parsed.data);
  }
  return entries;
}

/**
 * JSON lines of entries that the current schema wrote itself (checksummed, normalised): only their
 * shape is checked, not every field.
 */
export function parseNormalisedLines(key: string, body: string, lineOffset: number): LogEntry[] {
  const entries: LogEntry[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    let value: { seq?: unknown; kind?: unknown } | null;
    try {
      value = JSON.parse(lines[i]!);
    } catch {
      throw new CorruptBlobError(key, 'malformed', `line ${i + 1 + lineOffset} is not JSON`);
    }
    if (typeof value?.seq !== 'number' || typeof value.kind !== 'string') {
      throw new CorruptBlobError(key, 'malformed', `line ${i + 1 + lineOffset} is not a log entry`);
    }
    entries.push(value as LogEntry);
  }
  return entries;
}

/** True when each entry's seq follows the previous one's. */
export function contiguous(entries: LogEntry[], after?: number): boolean {
  let previous = after ?? (entries[0] ? entries[0].seq - 1 : 0);
  for (const entry of entries) {
    if (entry.seq !== previous + 1) return false;
    previous = entry.seq;
  }
  return true;
}
