import { createHash } from 'node:crypto';
import { CorruptBlobError } from './corrupt-blob-error.ts';

/**
 * Log blobs end in a trailer line `{"sha256":"<hex>","bytes":<n>}` covering every byte before it.
 * JSON parsing alone misses a flipped digit or letter that still parses, and a blob cut at a line
 * boundary parses too; the trailer catches both. It is a JSON line so `jq` still reads the file.
 */
export function sealLines(body: string): string {
  return sealWithDigest(body).text;
}

/** The sealed text and the sha256 its trailer records (the digest of `body`). */
export function sealWithDigest(body: string): { text: string; sha256: string } {
  if (body !== '' && !body.endsWith('\n')) throw new Error('sealed bodies are whole lines');
  const sha256 = sha256Hex(body);
  return { text: `${body}{"sha256":"${sha256}","bytes":${Buffer.byteLength(body)}}\n`, sha256 };
}

export type Unsealed = { body: string; sha256: string };

/** The body of a sealed blob, after checking its trailer; throws `CorruptBlobError` otherwise. */
export function unsealLines(key: string, bytes: Uint8Array): Unsealed {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length === 0 || buffer[buffer.length - 1] !== 0x0a) {
    throw new CorruptBlobError(key, 'truncated', 'no final newline');
  }
  const start = buffer.lastIndexOf(0x0a, buffer.length - 2) + 1;
  const trailer = parseTrailer(buffer.subarray(start, buffer.length - 1).toString('utf8'));
  if (!trailer) throw new CorruptBlobError(key, 'truncated', 'no checksum trailer');
  const body = buffer.subarray(0, start);
  if (body.length !== trailer.bytes) {
    throw new CorruptBlobError(
      key,
      'truncated',
      `${body.length} bytes, trailer says ${trailer.bytes}`,
    );
  }
  const actual = sha256Hex(body);
  if (actual !== trailer.sha256) {
    throw new CorruptBlobError(key, 'checksum', `sha256 ${actual} ≠ ${trailer.sha256}`);
  }
  return { body: body.toString('utf8'), sha256: actual };
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const trailerPattern = /^\{"sha256":"([0-9a-f]{64})","bytes":(\d+)\}$/;

function parseTrailer(line: string): { sha256: string; bytes: number } | undefined {
  const match = trailerPattern.exec(line);
  if (!match?.[1] || !match[2]) return undefined;
  return { sha256: match[1], bytes: Number(match[2]) };
}
