/**
 * A deterministic stand-in for a BPE tokenizer: words and punctuation marks are pieces, and a piece
 * costs one token per started 4 characters (the usual rule of thumb for English). Counting piece by
 * piece makes the count additive over word chunks, so the usage reported at the end equals the sum
 * of what was streamed.
 */

const PIECES = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;

export function countTokens(text: string): number {
  let tokens = 0;
  for (const piece of text.matchAll(PIECES)) tokens += Math.ceil(piece[0].length / 4);
  return tokens;
}

/**
 * Splits text into stream chunks, one word with its leading whitespace each, so that joining the
 * chunks gives back the text exactly (trailing whitespace rides on the last chunk).
 */
export function splitWords(text: string): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  const covered = words.reduce((n, w) => n + w.length, 0);
  if (covered < text.length) {
    const rest = text.slice(covered);
    if (words.length === 0) return [rest];
    words[words.length - 1] += rest;
  }
  return words;
}
