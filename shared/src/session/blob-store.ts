/**
 * Where session logs and workspaces are stored: a local folder by default, S3-compatible storage
 * in a cluster. A `put` resolves only once the bytes are durable.
 */
export interface BlobStore {
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** The blob's bytes, or `undefined` when no blob has that key. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Keys under a prefix, in lexicographic order. */
  list(prefix: string, options?: ListOptions): Promise<string[]>;
  /**
   * The immediate "folders" under a prefix ending in `/` (e.g. `sessions/` → `sessions/<id>/`),
   * without listing every blob beneath them. Optional: callers fall back to `list`.
   */
  listFolders?(prefix: string): Promise<string[]>;
  /** Removes every blob under a prefix; returns how many went. */
  deletePrefix(prefix: string): Promise<number>;
  /** A human-readable location for logs and errors, never containing credentials. */
  describe(): string;
  /**
   * One cheap request that proves the store can serve, for readiness: no retries (the next
   * probe is the retry), abandoned when `signal` aborts. Optional: callers fall back to `list`.
   */
  probe?(signal: AbortSignal): Promise<void>;
}

export type ListOptions = {
  /** Only keys that sort after this one (S3's StartAfter): reads the tail of a long listing. */
  startAfter?: string;
};

const keyPattern = /^[A-Za-z0-9._\-/]+$/;

/** Keys are relative slash paths of safe characters; `..` segments are never valid. */
export function assertValidKey(key: string): void {
  if (
    !keyPattern.test(key) ||
    key.startsWith('/') ||
    key.split('/').some((s) => s === '..' || s === '')
  ) {
    throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
  }
}
