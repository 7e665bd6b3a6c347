import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { blobKeys } from '@tern/shared/session/session-keys';
import type { SessionStore } from '@tern/shared/session/session-store';

/**
 * Materialises a session's workspace from the blob store into a local folder, once per worker.
 * (Content-addressed trees per step replace this with durable sessions.)
 */
export class WorkspaceCache {
  readonly #root: string;
  readonly #ready = new Map<string, Promise<string>>();

  constructor(root: string) {
    this.#root = root;
  }

  pathFor(sessionId: string): string {
    return join(this.#root, sessionId);
  }

  ensure(store: SessionStore, sessionId: string): Promise<string> {
    let ready = this.#ready.get(sessionId);
    if (!ready) {
      ready = this.#materialise(store, sessionId);
      this.#ready.set(sessionId, ready);
      ready.catch(() => this.#ready.delete(sessionId));
    }
    return ready;
  }

  async #materialise(store: SessionStore, sessionId: string): Promise<string> {
    const dir = this.pathFor(sessionId);
    await mkdir(dir, { recursive: true });
    const files = await store.workspaceFiles(sessionId);
    await Promise.all(
      files.map(async (path) => {
        const target = join(dir, path);
        if (await exists(target)) return;
        const bytes = await store.blobs.get(blobKeys.workspaceFile(sessionId, path));
        if (!bytes) return;
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, bytes);
      }),
    );
    return dir;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
