import { z } from 'zod';

/**
 * Where a session's snapshot packs lie, as the meta hash's `packs` field keeps it (JSON): each
 * folds the next `items` items of the segment list, holding entries `first..last`. The packs
 * together cover the list's first items and the log's first entries without a gap.
 *
 * Packs grow like a binary counter (a log-structured merge): every `every` segments the tail
 * becomes a new pack, and a pack at least as large as the one before it merges with it. So a log
 * of n segments is held in at most about log2(n / every) packs plus fewer than `every` segments,
 * and each entry is rewritten about log2(n / every) times in all: loading stays a handful of
 * reads and the background writes per commit grow only with the log's logarithm, where a whole
 * snapshot rewritten every k commits would cost n / k.
 */
export const packRefSchema = z.object({
  first: z.number().int().positive(),
  last: z.number().int().positive(),
  items: z.number().int().positive(),
});
export type PackRef = z.infer<typeof packRefSchema>;

const packsSchema = z.array(packRefSchema);

/** The `packs` field as stored; `undefined` when it is absent, unreadable or inconsistent. */
export function parsePacks(raw: string | null | undefined): PackRef[] | undefined {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = packsSchema.safeParse(value);
  if (!parsed.success || !coversFromStart(parsed.data)) return undefined;
  return parsed.data;
}

/** True when the packs hold entries 1..n without a gap. */
export function coversFromStart(packs: readonly PackRef[]): boolean {
  let last = 0;
  for (const pack of packs) {
    if (pack.first !== last + 1 || pack.last < pack.first) return false;
    last = pack.last;
  }
  return true;
}

export const foldedItems = (packs: readonly PackRef[]) => packs.reduce((n, p) => n + p.items, 0);
export const foldedSeq = (packs: readonly PackRef[]) => packs.at(-1)?.last ?? 0;

/**
 * The packs after folding the tail (`tail`: the next items and the entries they hold) into a new
 * pack, merging while the newest pack is at least as large as the one before it. `write` is the
 * one pack whose blob is new (a cascade of merges writes only its final result).
 */
export function foldTail(
  packs: readonly PackRef[],
  tail: PackRef,
): { packs: PackRef[]; write: PackRef } {
  const next = [...packs];
  let pack = tail;
  while (next.length > 0 && pack.items >= next.at(-1)!.items) {
    const previous = next.pop()!;
    pack = { first: previous.first, last: pack.last, items: previous.items + pack.items };
  }
  next.push(pack);
  return { packs: next, write: pack };
}
