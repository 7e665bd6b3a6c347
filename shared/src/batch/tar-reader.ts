import { gunzipSync } from 'node:zlib';
import { snapshotError } from './batch-errors.ts';

/**
 * A reader for the tar archives a batch job's snapshot arrives in: POSIX ustar with pax extended
 * headers (what GNU and BSD tar, `git archive` and npm write) and GNU long names, gzipped or not.
 * Pure and in memory: the archive is bounded by the job's size cap before it gets here. It only
 * reads; whether a path or link is acceptable is `snapshot-extract.ts`'s decision.
 */

export type TarEntry =
  | { type: 'file'; path: string; mode: number; data: Uint8Array }
  | { type: 'directory'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string };

const BLOCK = 512;
const GZIP_MAGIC = [0x1f, 0x8b];

/** Gunzips when the bytes are gzip, refusing output beyond `maxBytes`. */
export function gunzipIfNeeded(bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (bytes[0] !== GZIP_MAGIC[0] || bytes[1] !== GZIP_MAGIC[1]) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw snapshotError(
        'snapshot_too_large',
        `the snapshot unpacks to more than ${maxBytes} bytes`,
      );
    }
    throw snapshotError(
      'snapshot_invalid',
      `the snapshot is not valid gzip: ${(error as Error).message}`,
    );
  }
}

/** Every entry of a tar archive, in order; pax and GNU long-name records are folded in. */
export function readTar(tar: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end of archive (two zero blocks; one is enough)
    verifyChecksum(header, offset);
    const size = pax.size !== undefined ? Number(pax.size) : readNumber(header, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw snapshotError('snapshot_invalid', `bad entry size at byte ${offset}`);
    }
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) {
      throw snapshotError('snapshot_invalid', 'the archive ends in the middle of an entry');
    }
    const data = tar.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    const type = String.fromCharCode(header[156]!);

    if (type === 'x') {
      pax = parsePax(data);
      continue;
    }
    if (type === 'g') continue; // global pax header: nothing Tern uses
    if (type === 'L') {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === 'K') {
      longLink = cString(data, 0, data.length);
      continue;
    }

    const path = pax.path ?? longName ?? headerPath(header);
    const link = pax.linkpath ?? longLink ?? cString(header, 157, 100);
    const mode = readNumber(header, 100, 8);
    pax = {};
    longName = undefined;
    longLink = undefined;
    switch (type) {
      case '0':
      case '\0':
      case '7': // contiguous file: a regular file to every reader but a few 1980s systems
        entries.push({ type: 'file', path, mode, data });
        break;
      case '5':
        entries.push({ type: 'directory', path, mode });
        break;
      case '2':
        entries.push({ type: 'symlink', path, target: link });
        break;
      case '1':
        entries.push({ type: 'hardlink', path, target: link });
        break;
      default:
        throw snapshotError(
          'snapshot_unsupported_entry',
          `${path}: entries of tar type '${type}' (devices, fifos, sparse files) are not accepted`,
        );
    }
  }
  return entries;
}

/** ustar splits long paths into `prefix/name`; GNU tar uses those bytes for other fields. */
function headerPath(header: Uint8Array): string {
  const name = cString(header, 0, 100);
  const ustar = cString(header, 257, 6) === 'ustar' && header[262] === 0;
  const prefix = ustar ? cString(header, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function verifyChecksum(header: Uint8Array, offset: number): void {
  const stored = readNumber(header, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some old writers summed signed bytes; both are accepted, as GNU tar does.
  if (stored !== unsigned && stored !== signed) {
    throw snapshotError(
      'snapshot_invalid',
      `not a tar archive (bad header checksum at byte ${offset})`,
    );
  }
}

/** An octal field, or GNU's base-256 form for values that do not fit (high bit set). */
function readNumber(header: Uint8Array, at: number, length: number): number {
  if ((header[at]! & 0x80) !== 0) {
    let value = header[at]! & 0x7f;
    for (let i = at + 1; i < at + length; i++) value = value * 256 + header[i]!;
    return value;
  }
  const text = cString(header, at, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function cString(bytes: Uint8Array, at: number, length: number): string {
  const field = bytes.subarray(at, at + length);
  const end = field.indexOf(0);
  return Buffer.from(end === -1 ? field : field.subarray(0, end)).toString('utf8');
}

/** pax records: `<length> <key>=<value>\n`, the length counting the whole record. */
function parsePax(data: Uint8Array): Record<string, string> {
  const records: Record<string, string> = {};
  const buffer = Buffer.from(data);
  let at = 0;
  while (at < buffer.length) {
    const space = buffer.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(buffer.toString('ascii', at, space));
    if (!Number.isSafeInteger(length) || length <= 0 || at + length > buffer.length) {
      throw snapshotError('snapshot_invalid', 'a pax header record is malformed');
    }
    const record = buffer.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return records;
}
