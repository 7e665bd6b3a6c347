import { gzipSync } from 'node:zlib';
import { endOfArchive, type TarMemberType, tarMember } from './tar-header.ts';

/**
 * Writes tar archives for tests, including the malicious ones no well-behaved tar creates
 * (`../` names, absolute paths, links out): the same header encoding as the production writer
 * (tar-header.ts), with whatever names and link targets the test gives.
 */
export type TestTarEntry =
  | { type: 'file'; path: string; content: string; mode?: number }
  | { type: 'directory'; path: string }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string }
  | { type: 'fifo'; path: string };

/** A fixed time, so the same entries always give the same bytes. */
const MTIME = 1_700_000_000;

export function makeTar(entries: readonly TestTarEntry[], options: { gzip?: boolean } = {}) {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? Buffer.from(entry.content) : Buffer.alloc(0);
    const type: TarMemberType = entry.type;
    blocks.push(
      ...tarMember(
        {
          path: entry.path,
          type,
          mode: entry.type === 'file' ? (entry.mode ?? 0o644) : 0o755,
          size: data.length,
          mtime: MTIME,
          ...(entry.type === 'symlink' || entry.type === 'hardlink'
            ? { linkpath: entry.target }
            : {}),
        },
        data,
      ),
    );
  }
  blocks.push(endOfArchive());
  const tar = Buffer.concat(blocks);
  return options.gzip ? gzipSync(tar) : tar;
}
