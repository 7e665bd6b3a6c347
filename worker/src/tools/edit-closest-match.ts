/** Where a missing `old_text` most likely was meant to be, for a "not found" message. */
export type ClosestMatch = {
  /** 1-based first line of the best window. */
  line: number;
  text: string;
  /** The window equals `old_text` once runs of whitespace are ignored. */
  whitespaceOnly: boolean;
};

const MAX_COMPARISONS = 200_000;

/**
 * Slides a window of `old_text`'s line count over the file and scores each by bigram similarity
 * of trimmed lines. Bounded work: very large files are scored on the first line of `old_text` only.
 */
export function closestMatch(content: string, oldText: string): ClosestMatch | undefined {
  const fileLines = content.split('\n');
  let wanted = oldText.replace(/^\n+|\n+$/g, '').split('\n');
  if (wanted.length === 0 || wanted.every((l) => l.trim() === '')) return undefined;
  if (fileLines.length * wanted.length > MAX_COMPARISONS) wanted = wanted.slice(0, 1);
  const wantedGrams = wanted.map((l) => bigrams(l.trim()));
  const fileGrams = fileLines.map((l) => bigrams(l.trim()));
  let best = { score: -1, start: 0 };
  for (let start = 0; start + wanted.length <= fileLines.length; start++) {
    let score = 0;
    for (let i = 0; i < wanted.length; i++) score += dice(fileGrams[start + i]!, wantedGrams[i]!);
    if (score > best.score) best = { score, start };
  }
  if (best.score <= 0) return undefined;
  const window = fileLines.slice(best.start, best.start + wanted.length);
  const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
  return {
    line: best.start + 1,
    text: window.join('\n'),
    whitespaceOnly: squash(window.join('\n')) === squash(wanted.join('\n')),
  };
}

function bigrams(text: string): Map<string, number> {
  const grams = new Map<string, number>();
  for (let i = 0; i < text.length - 1; i++) {
    const gram = text.slice(i, i + 2);
    grams.set(gram, (grams.get(gram) ?? 0) + 1);
  }
  if (text.length === 1) grams.set(text, 1);
  return grams;
}

/** Sørensen–Dice coefficient of two bigram multisets: 1 for equal strings, 0 for disjoint. */
function dice(a: Map<string, number>, b: Map<string, number>): number {
  let sizeA = 0;
  let sizeB = 0;
  let shared = 0;
  for (const n of a.values()) sizeA += n;
  for (const [gram, n] of b) {
    sizeB += n;
    shared += Math.min(n, a.get(gram) ?? 0);
  }
  if (sizeA + sizeB === 0) return 1;
  return (2 * shared) / (sizeA + sizeB);
}
