import { describe, expect, it } from 'vitest';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { blobKeys } from './session-keys.ts';
import { decodeManifest, encodeManifest, type Manifest } from './session-manifest.ts';

const manifest: Manifest = {
  version: 1,
  sessionId: 'ses_a',
  title: 'Refactor «the» parser',
  model: 'openai:gpt-4.1-mini',
  epoch: 4,
  lastSeq: 80,
  inputSeq: 16,
  doneInputSeq: 16,
  updatedAt: 1_700_000_000_000,
  packs: [
    { first: 1, last: 64, items: 16 },
    { first: 65, last: 70, items: 2 },
  ],
  segments: ['0000000071-0000000075-e4-0123456789ab', '0000000076-0000000080-e4-ba9876543210'],
};

describe('manifest', () => {
  it('is one JSON document that round-trips', () => {
    const text = encodeManifest(manifest);
    expect(() => JSON.parse(text)).not.toThrow();
    expect(decodeManifest(blobKeys.manifest('ses_a'), Buffer.from(text))).toEqual(manifest);
  });

  it('detects a changed digit that still parses', () => {
    const text = encodeManifest(manifest).replace('"lastSeq\\":80', '"lastSeq\\":90');
    expect(text).not.toBe(encodeManifest(manifest));
    const error = (() => {
      try {
        decodeManifest(blobKeys.manifest('ses_a'), Buffer.from(text));
      } catch (e) {
        return e;
      }
    })();
    expect(CorruptBlobError.is(error) && error.reason).toBe('checksum');
  });

  it('reports a truncated manifest with its session and key', () => {
    const text = encodeManifest(manifest);
    expect(() =>
      decodeManifest(blobKeys.manifest('ses_a'), Buffer.from(text.slice(0, 40))),
    ).toThrow(/session ses_a: blob sessions\/ses_a\/manifest.json/);
  });
});
