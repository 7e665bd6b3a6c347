import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { assertValidKey, type BlobStore, type ListOptions } from './blob-store.ts';

/**
 * A folder as a blob store. Writes go to a temporary file that is fsynced and then renamed, so a
 * crash leaves either the old blob or the whole new one, never a torn write.
 */
export class FileBlobStore implements BlobStore {
  readonly root: string;
  readonly #madeDirs = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  describe(): string {
    return `file:${this.root}`;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.#path(key);
    const dir = dirname(path);
    if (!this.#madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#madeDirs.add(dir);
    }
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.#path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    const base = join(this.root, prefix);
    const dir = prefix.endsWith('/') ? base : dirname(base);
    let names: string[];
    try {
      names = (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile() && !d.name.endsWith('.tmp'))
        .map((d) => relative(this.root, join(d.parentPath, d.name)).split(sep).join('/'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const after = options.startAfter;
    return names.filter((k) => k.startsWith(prefix) && (after === undefined || k > after)).sort();
  }

  async listFolders(prefix: string): Promise<string[]> {
    if (!prefix.endsWith('/')) throw new Error(`listFolders takes a prefix ending in /: ${prefix}`);
    try {
      const dirents = await readdir(join(this.root, prefix), { withFileTypes: true });
      return dirents
        .filter((d) => d.isDirectory())
        .map((d) => `${prefix}${d.name}/`)
        .sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    await Promise.all(keys.map((k) => rm(this.#path(k), { force: true })));
    this.#madeDirs.clear();
    return keys.length;
  }

  /** The folder exists (or can be made, as the first put would) and may be read and written. */
  async probe(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.R_OK | constants.W_OK);
  }

  #path(key: string): string {
    assertValidKey(key);
    return join(this.root, key);
  }
}
