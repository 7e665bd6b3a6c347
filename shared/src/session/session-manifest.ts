import { z } from 'zod';
import { sha256Hex } from './blob-checksum.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { packRefSchema } from './snapshot-packs.ts';

/**
 * The head of a session as last mirrored from Redis: what a Redis rebuild starts from. It stays
 * small whatever the session's length: it names the snapshot packs (a logarithmic number of them)
 * and only the segments after them, which packs fold away every few commits.
 */
export const manifestSchema = z.object({
  version: z.literal(1),
  sessionId: z.string(),
  /** The owner's user id, also in `session.json`; absent before users existed. */
  owner: z.string().optional(),
  title: z.string(),
  model: z.string(),
  epoch: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
  inputSeq: z.number().int().nonnegative(),
  doneInputSeq: z.number().int().nonnegative(),
  updatedAt: z.number().int(),
  /** The snapshot packs, in order, holding entries 1..(the last one's `last`). */
  packs: z.array(packRefSchema),
  /** Segment list items after the packs, in order; stamped names carry their checksum. */
  segments: z.array(z.string()),
});
export type Manifest = z.infer<typeof manifestSchema>;

/**
 * `{"sha256": …, "manifest": "<the manifest's JSON>"}`: still one JSON document, with the
 * checksum taken over the exact bytes of the inner JSON rather than a re-serialisation of it.
 */
export function encodeManifest(manifest: Manifest): string {
  const body = JSON.stringify(manifest);
  return `${JSON.stringify({ sha256: sha256Hex(body), manifest: body })}\n`;
}

const envelopeSchema = z.object({ sha256: z.string(), manifest: z.string() });

export function decodeManifest(key: string, bytes: Uint8Array): Manifest {
  let envelope: z.infer<typeof envelopeSchema>;
  try {
    envelope = envelopeSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch {
    throw new CorruptBlobError(key, 'malformed', 'not a manifest envelope');
  }
  const actual = sha256Hex(envelope.manifest);
  if (actual !== envelope.sha256) {
    throw new CorruptBlobError(key, 'checksum', `sha256 ${actual} ≠ ${envelope.sha256}`);
  }
  const parsed = manifestSchema.safeParse(JSON.parse(envelope.manifest));
  if (!parsed.success) throw new CorruptBlobError(key, 'malformed', 'not a manifest');
  return parsed.data;
}
