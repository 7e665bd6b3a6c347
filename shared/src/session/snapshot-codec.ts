import { z } from 'zod';
import { sealLines, unsealLines } from './blob-checksum.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { LOG_SCHEMA_VERSION, type LogEntry, logEntrySchema } from './log-entry.ts';
import { contiguous, entryLines, parseEntryLines, parseNormalisedLines } from './segment-codec.ts';

/**
 * A snapshot pack folds consecutive segments into one blob: a header line naming the segment list
 * items it folds, the entries `first..last`, and the checksum trailer. Naming the items lets a
 * Redis rebuild restore the exact segment list (a fork's list names its parent's blobs, which no
 * listing of the fork's own prefix would find).
 */
export type SnapshotPack = { first: number; last: number; items: string[]; entries: LogEntry[] };

const headerSchema = z.object({
  pack: z.object({
    first: z.number().int().positive(),
    last: z.number().int().positive(),
    items: z.array(z.string()).min(1),
  }),
  /** The `LOG_SCHEMA_VERSION` its entries were normalised with; absent in older packs. */
  schema: z.number().int().optional(),
});

/**
 * Entries pass through the schema first so that any two workers packing the same range write
 * byte-identical blobs (key order and defaults as the schema gives them), whichever last wins.
 */
export function encodeSnapshotPack(pack: SnapshotPack): string {
  const header = JSON.stringify({
    pack: { first: pack.first, last: pack.last, items: pack.items },
    schema: LOG_SCHEMA_VERSION,
  });
  const entries = pack.entries.map((e) => logEntrySchema.parse(e));
  return sealLines(`${header}\n${entryLines(entries)}`);
}

export function decodeSnapshotPack(key: string, bytes: Uint8Array): SnapshotPack {
  const { body } = unsealLines(key, bytes);
  const newline = body.indexOf('\n');
  let parsed: z.infer<typeof headerSchema>;
  try {
    parsed = headerSchema.parse(JSON.parse(body.slice(0, newline)));
  } catch {
    throw new CorruptBlobError(key, 'malformed', 'line 1 is not a snapshot pack header');
  }
  const header = parsed.pack;
  // Packs are what a cold load reads most of: entries this version normalised itself are taken
  // as they are (the checksum proved them intact), which halves the decoding time.
  const entries =
    parsed.schema === LOG_SCHEMA_VERSION
      ? parseNormalisedLines(key, body.slice(newline + 1), 1)
      : parseEntryLines(key, body.slice(newline + 1), 1);
  if (entries.length !== header.last - header.first + 1 || !contiguous(entries, header.first - 1)) {
    throw new CorruptBlobError(
      key,
      'malformed',
      `holds ${entries.length} entries from seq ${entries[0]?.seq}, its header says ${header.first}..${header.last}`,
    );
  }
  return { ...header, entries };
}
