import { describe, expect, it } from 'vitest';
import { turnCommits } from '../../../test/helpers/session-fixtures.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { decodeSegment, encodeSegment, encodeSegmentWithDigest } from './segment-codec.ts';
import { blobKeys } from './session-keys.ts';

const entries = turnCommits(1, 1).flat();
const { text: body, sha256 } = encodeSegmentWithDigest(entries);
const key = blobKeys.segment('ses_a', 1, 5, { epoch: 3, sha256 });
const bytes = () => new Uint8Array(Buffer.from(body));

function corruptionOf(k: string, b: Uint8Array): CorruptBlobError {
  try {
    decodeSegment(k, b);
  } catch (error) {
    if (CorruptBlobError.is(error)) return error;
    throw error;
  }
  throw new Error('decoded a corrupt segment');
}

describe('segment codec', () => {
  it('round-trips entries through a sealed blob', () => {
    expect(decodeSegment(key, bytes())).toEqual(entries);
    expect(body.split('\n').at(-2)).toMatch(/^\{"sha256":"[0-9a-f]{64}","bytes":\d+\}$/);
  });

  it('catches a flipped byte that still parses as a valid entry', () => {
    const b = bytes();
    const at = Buffer.from(b).indexOf('the worker');
    b[at] = 'T'.charCodeAt(0);
    const error = corruptionOf(key, b);
    expect(error.reason).toBe('checksum');
    expect(error.sessionId).toBe('ses_a');
    expect(error.key).toBe(key);
    expect(error.message).toContain(key);
  });

  it('catches a blob cut at a line boundary and one cut mid-line', () => {
    const lines = body.split('\n');
    const atLine = new Uint8Array(Buffer.from(`${lines.slice(0, 3).join('\n')}\n`));
    expect(corruptionOf(key, atLine).reason).toBe('truncated');
    const midLine = bytes().subarray(0, Math.floor(body.length / 2));
    expect(corruptionOf(key, midLine).reason).toBe('truncated');
    expect(corruptionOf(key, new Uint8Array()).reason).toBe('truncated');
  });

  it('rejects an intact blob stored under another segment name', () => {
    const other = blobKeys.segment('ses_a', 1, 5, { epoch: 3, sha256: 'f'.repeat(64) });
    expect(corruptionOf(other, bytes()).reason).toBe('checksum');
    const wrongRange = blobKeys.segment('ses_a', 1, 4);
    expect(corruptionOf(wrongRange, bytes()).reason).toBe('malformed');
  });

  it('names the line of an entry that fails its schema', () => {
    const sealed = encodeSegment([{ ...entries[0]!, kind: 'nonsense' } as never]);
    const error = corruptionOf(blobKeys.segment('ses_b', 1, 1), Buffer.from(sealed));
    expect(error.reason).toBe('malformed');
    expect(error.message).toContain('line 1');
  });
});
