import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../session/file-blob-store.ts';
import { blobStoreProbe, dependencyChecks, redisProbe } from './dependency-checks.ts';
import { readiness } from './readiness.ts';

const dir = mkdtempSync(join(tmpdir(), 'tern-ready-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const timing = { READY_PROBE_INTERVAL_MS: 0, READY_PROBE_TIMEOUT_MS: 1000 };

describe('dependency probes', () => {
  it('fails a Redis probe at once while the client is not connected, without queueing a PING', async () => {
    let pings = 0;
    const redis = {
      status: 'reconnecting' as const,
      ping: async () => {
        pings++;
        return 'PONG' as const;
      },
    };
    await expect(redisProbe(redis)(new AbortController().signal)).rejects.toMatchObject({
      code: 'reconnecting',
    });
    expect(pings).toBe(0);
  });

  it('passes a folder store that can be written, creating it as a first write would', async () => {
    const store = new FileBlobStore(join(dir, 'not-yet', 'blobs'));
    await expect(blobStoreProbe(store)(new AbortController().signal)).resolves.toBeUndefined();
  });

  it('fails a folder store whose path cannot be a folder', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const store = new FileBlobStore(join(file, 'blobs'));
    await expect(blobStoreProbe(store)(new AbortController().signal)).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
  });

  it('reports the store as down by name while Redis answers', async () => {
    const file = join(dir, 'another-file');
    writeFileSync(file, 'not a folder');
    const changes: string[] = [];
    const checks = dependencyChecks(
      {
        redis: { status: 'ready', ping: async () => 'PONG' as const },
        blobs: new FileBlobStore(join(file, 'blobs')),
      },
      timing,
      (name, result) => changes.push(`${name} ${result.status}`),
    );
    const report = await readiness(checks);
    expect(report).toEqual({
      status: 'unavailable',
      down: ['store'],
      checks: {
        redis: { status: 'up' },
        store: { status: 'down', code: 'unavailable', message: 'ENOTDIR' },
      },
    });
    expect(changes).toEqual(['redis up', 'store down']);
  });
});
