import { type BatchEvent, batchEventSchema } from '../protocol/batch-api.ts';

/**
 * A batch stream entry's event (field `e`, as `BatchStore.publish` writes it); `undefined` for an
 * entry this version cannot read, which readers skip rather than stop at.
 */
export function parseBatchStreamEntry(fields: string[]): BatchEvent | undefined {
  const at = fields.indexOf('e');
  if (at === -1 || at % 2 !== 0) return undefined;
  try {
    const parsed = batchEventSchema.safeParse(JSON.parse(fields[at + 1] ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
