import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from './blob-checksum.ts';

/**
 * Workspace blobs a host already has, by sha256, so that a restore downloads only content this
 * host never had (a fork of a session it ran, a file put back as it was, a restarted worker).
 * Worker processes of one host may share the folder: entries are written whole (temporary name,
 * then rename) and checked against their name when read, so a torn or foreign file is never used.
 *
 * Bounded crudely: once a process has written `maxBytes` into it, the folder is emptied and fills
 * again with what is in use. Every failure is a miss, never an error: the store has every blob.
 */
export class LocalBlobCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  #written = 0;

  constructor(dir: string, maxBytes = 1024 * 1024 * 1024) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.#dir, hash));
    } catch {
      return undefined;
    }
    if (sha256Hex(bytes) === hash) return bytes;
    await rm(join(this.#dir, hash), { force: true }).catch(() => {});
    return undefined;
  }

  async put(hash: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > this.#maxBytes / 4) return;
    try {
      if (this.#written + bytes.byteLength > this.#maxBytes) {
        this.#written = 0;
        await rm(this.#dir, { recursive: true, force: true });
      }
      await mkdir(this.#dir, { recursive: true });
      const temp = join(this.#dir, `.${hash}.${randomBytes(6).toString('hex')}.tmp`);
      await writeFile(temp, bytes);
      await rename(temp, join(this.#dir, hash));
      this.#written += bytes.byteLength;
    } catch {
      // A cache that cannot be written only means later downloads.
    }
  }
}
