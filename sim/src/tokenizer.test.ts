import { describe, expect, it } from 'vitest';
import { countTokens, splitWords } from './tokenizer.ts';

describe('countTokens', () => {
  it('charges a token per started four characters of each word and one per punctuation mark', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hi')).toBe(1);
    expect(countTokens('hello, world!')).toBe(2 + 1 + 2 + 1);
    expect(countTokens('src/a.ts')).toBe(5);
  });

  it('is additive over the word chunks a reply is streamed in', () => {
    const text = 'The quick, brown fox: "jumps" over 12 lazy dogs.';
    const sum = splitWords(text).reduce((n, word) => n + countTokens(word), 0);
    expect(sum).toBe(countTokens(text));
  });
});

describe('splitWords', () => {
  it('keeps each word with its leading whitespace and loses no character', () => {
    const text = '  a  b\n\tc ';
    expect(splitWords(text)).toEqual(['  a', '  b', '\n\tc ']);
    expect(splitWords('   ')).toEqual(['   ']);
    expect(splitWords('')).toEqual([]);
  });
});
