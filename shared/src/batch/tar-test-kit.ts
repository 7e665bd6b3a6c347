import { gzipSync } from 'node:zlib';

/**
 * Writes tar archives for tests, including the malicious ones no well-behaved tar creates
 * (`../` names, absolute paths, links out). ustar headers; long names through a pax record.
 */
export type TestTarEntry =
  | { type: 'file'; path: string; content: string; mode?: number }
  | { type: 'directory'; path: string }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string }
  | { type: 'fifo'; path: string };

const TYPE_FLAGS = { file: '0', directory: '5', symlink: '2', hardlink: '1', fifo: '6' } as const;

export function makeTar(entries: readonly TestTarEntry[], options: { gzip?: boolean } = {}) {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? Buffer.from(entry.content) : Buffer.alloc(0);
    if (Buffer.byteLength(entry.path) > 100) {
      const record = paxRecord('path', entry.path);
      blocks.push(header({ path: 'PaxHeader', flag: 'x', size: record.length }), pad(record));
    }
    const link = entry.type === 'symlink' || entry.type === 'hardlink' ? entry.target : '';
    blocks.push(
      header({
        path: entry.path.slice(0, 100),
        flag: TYPE_FLAGS[entry.type],
        size: data.length,
        mode: entry.type === 'file' ? (entry.mode ?? 0o644) : 0o755,
        link,
      }),
      pad(data),
    );
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  return options.gzip ? gzipSync(tar) : tar;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return Buffer.from(`${length}${body}`);
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

function header(h: { path: string; flag: string; size: number; mode?: number; link?: string }) {
  const block = Buffer.alloc(512);
  const put = (text: string, at: number, length: number) =>
    block.write(text.slice(0, length), at, length, 'utf8');
  const octal = (n: number, at: number, length: number) =>
    put(`${n.toString(8).padStart(length - 1, '0')}\0`, at, length);
  put(h.path, 0, 100);
  octal(h.mode ?? 0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(h.size, 124, 12);
  octal(1_700_000_000, 136, 12);
  block.fill(0x20, 148, 156);
  put(h.flag, 156, 1);
  put(h.link ?? '', 157, 100);
  block.write('ustar\u000000', 257, 8, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  octal(sum, 148, 7);
  block[155] = 0x20;
  return block;
}
