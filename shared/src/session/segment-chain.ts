import { type ParsedSegmentName, parseSegmentName } from './session-keys.ts';

export type SegmentChain = {
  /** Segment list items in log order. */
  items: string[];
  /** The last seq the chain reaches. */
  lastSeq: number;
  /** Items taken from the store's listing alone, not confirmed by a manifest. */
  unconfirmed: string[];
  /** Positions where several listed segments could continue the log. */
  ambiguous: number;
};

/**
 * Rebuilds a segment list without Redis: from a starting point (the items snapshot packs fold, or
 * nothing), it follows segments whose first seq continues the log. Items a manifest names are
 * taken first: they were in the head when it was mirrored. Past them, a listed segment may be an
 * orphan (written, then its commit was fenced or its worker died before the compare-and-set), so
 * among several candidates the highest fencing epoch wins: a segment that lost to another was
 * always written under an older lease than the one that beat it.
 */
export function walkSegmentChain(
  start: { items: string[]; lastSeq: number },
  trusted: string[],
  listed: string[],
): SegmentChain {
  const byFirst = new Map<number, { parsed: ParsedSegmentName; trusted: boolean }[]>();
  const add = (item: string, isTrusted: boolean) => {
    const parsed = parseSegmentName(item);
    if (!parsed || parsed.last < parsed.first) return;
    const list = byFirst.get(parsed.first) ?? [];
    if (!list.some((c) => c.parsed.name === item)) list.push({ parsed, trusted: isTrusted });
    byFirst.set(parsed.first, list);
  };
  for (const item of trusted) add(item, true);
  for (const item of listed) add(item, false);

  const items = [...start.items];
  const unconfirmed: string[] = [];
  let lastSeq = start.lastSeq;
  let ambiguous = 0;
  for (;;) {
    const candidates = byFirst.get(lastSeq + 1);
    if (!candidates || candidates.length === 0) break;
    const chosen =
      candidates.find((c) => c.trusted) ??
      [...candidates].sort(
        (a, b) =>
          (b.parsed.epoch ?? -1) - (a.parsed.epoch ?? -1) ||
          (a.parsed.name < b.parsed.name ? 1 : -1),
      )[0]!;
    if (!chosen.trusted && candidates.length > 1) ambiguous++;
    items.push(chosen.parsed.name);
    if (!chosen.trusted) unconfirmed.push(chosen.parsed.name);
    lastSeq = chosen.parsed.last;
  }
  return { items, lastSeq, unconfirmed, ambiguous };
}
