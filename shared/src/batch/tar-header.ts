/**
 * The bytes of one tar member as POSIX ustar writes them, with a pax extended header in front
 * when a field does not fit ustar (a path or link target over 100 bytes, a size over 8 GiB).
 * No checks on the names: the production writer (tar-writer.ts) only hands it paths it walked,
 * and the test kit (tar-test-kit.ts) must be able to write the malicious ones (`../x`, `/etc`).
 */

export const TAR_BLOCK = 512;

/** ustar type flags of the members Tern writes. */
export const TAR_TYPE = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  directory: '5',
  fifo: '6',
} as const;
export type TarMemberType = keyof typeof TAR_TYPE;

export type TarMemberHeader = {
  path: string;
  type: TarMemberType;
  /** Permission bits (owners and times are not restored by Tern's reader). */
  mode: number;
  /** Bytes of data that follow (files only). */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** A link's target. */
  linkpath?: string;
};

const NAME_FIELD = 100;
/** The largest size an 11-digit octal field holds. */
const MAX_OCTAL_SIZE = 0o77777777777;

/** A member's header blocks followed by its data padded to whole blocks. */
export function tarMember(header: TarMemberHeader, data: Uint8Array = new Uint8Array()): Buffer[] {
  const pax: [string, string][] = [];
  if (Buffer.byteLength(header.path) > NAME_FIELD) pax.push(['path', header.path]);
  const link = header.linkpath ?? '';
  if (Buffer.byteLength(link) > NAME_FIELD) pax.push(['linkpath', link]);
  if (header.size > MAX_OCTAL_SIZE) pax.push(['size', String(header.size)]);
  const blocks: Buffer[] = [];
  if (pax.length > 0) {
    const records = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
    blocks.push(
      ustarBlock({
        path: `PaxHeaders/${lastBytes(header.path, NAME_FIELD - 11)}`,
        flag: 'x',
        mode: 0o644,
        size: records.length,
        mtime: header.mtime,
        linkpath: '',
      }),
      padToBlock(records),
    );
  }
  blocks.push(
    ustarBlock({
      // Cut to fit: a reader that knows pax takes the full name from the record above.
      path: firstBytes(header.path, NAME_FIELD),
      flag: TAR_TYPE[header.type],
      mode: header.mode,
      size: Math.min(header.size, MAX_OCTAL_SIZE),
      mtime: header.mtime,
      linkpath: firstBytes(link, NAME_FIELD),
    }),
  );
  if (data.length > 0) blocks.push(padToBlock(Buffer.from(data)));
  return blocks;
}

/** Two zero blocks end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * TAR_BLOCK);
}

/** A pax record: `<length> <key>=<value>\n`, where the length counts its own digits too. */
export function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length++;
  return Buffer.from(`${length}${body}`);
}

export function padToBlock(data: Buffer): Buffer {
  const rest = data.length % TAR_BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(TAR_BLOCK - rest)]);
}

function ustarBlock(h: {
  path: string;
  flag: string;
  mode: number;
  size: number;
  mtime: number;
  linkpath: string;
}): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  const put = (text: string, at: number, length: number) => block.write(text, at, length, 'utf8');
  const octal = (n: number, at: number, length: number) =>
    put(
      `${Math.trunc(n)
        .toString(8)
        .padStart(length - 1, '0')}\0`,
      at,
      length,
    );
  put(h.path, 0, NAME_FIELD);
  octal(h.mode & 0o7777, 100, 8);
  octal(0, 108, 8); // uid: owners are not kept
  octal(0, 116, 8); // gid
  octal(h.size, 124, 12);
  octal(Math.max(0, Math.min(h.mtime, MAX_OCTAL_SIZE)), 136, 12);
  block.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  put(h.flag, 156, 1);
  put(h.linkpath, 157, NAME_FIELD);
  block.write('ustar\u000000', 257, 8, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  octal(sum, 148, 7);
  block[155] = 0x20;
  return block;
}

/** The longest prefix of `text` within `max` UTF-8 bytes, never splitting a character. */
function firstBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(out + char) > max) break;
    out += char;
  }
  return out;
}

/** The longest suffix of `text` within `max` UTF-8 bytes. */
function lastBytes(text: string, max: number): string {
  const chars = [...text];
  let out = '';
  for (let i = chars.length - 1; i >= 0; i--) {
    if (Buffer.byteLength(chars[i] + out) > max) break;
    out = chars[i] + out;
  }
  return out;
}
