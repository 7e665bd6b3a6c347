import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '@tern/shared/session/blob-store';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import { S3BlobStore } from '@tern/shared/session/s3-blob-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';

let s3: TestS3;
let dir: string;

beforeAll(async () => {
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'tern-contract-'));
});

afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

const s3Store = (prefix?: string) => s3.openStore(prefix, 5_000);

const stores: [string, () => BlobStore][] = [
  ['the folder store', () => new FileBlobStore(join(dir, 'blobs'))],
  ['the S3 store', () => s3Store()],
  ['the S3 store under a key prefix', () => s3Store('deploy-a')],
];

describe.each(stores)('%s', (_name, open) => {
  let store: BlobStore;
  let base: string;
  beforeAll(() => {
    store = open();
    base = `sessions/ses_${Math.random().toString(36).slice(2)}/`;
  });

  it('stores bytes and strings and reads them back exactly', async () => {
    const binary = new Uint8Array([0, 1, 2, 250, 255, 10]);
    await store.put(`${base}a.bin`, binary);
    await store.put(`${base}b.txt`, 'héllo\n');
    expect([...((await store.get(`${base}a.bin`)) ?? [])]).toEqual([...binary]);
    expect(Buffer.from((await store.get(`${base}b.txt`))!).toString('utf8')).toBe('héllo\n');
    await store.put(`${base}b.txt`, 'replaced');
    expect(Buffer.from((await store.get(`${base}b.txt`))!).toString('utf8')).toBe('replaced');
    expect(await store.put(`${base}empty`, '')).toBeUndefined();
    expect((await store.get(`${base}empty`))?.length).toBe(0);
  });

  it('answers undefined for a key that does not exist', async () => {
    expect(await store.get(`${base}nothing-here`)).toBeUndefined();
  });

  it('lists keys under a prefix in order, after a given key, and the folders under one', async () => {
    const keys = ['x/0003', 'x/0001', 'x/0002', 'y/0001', 'x/sub/0004'].map((k) => base + k);
    for (const key of keys) await store.put(key, key);
    expect(await store.list(`${base}x/`)).toEqual(
      ['x/0001', 'x/0002', 'x/0003', 'x/sub/0004'].map((k) => base + k),
    );
    expect(await store.list(`${base}x/000`)).toEqual(
      ['x/0001', 'x/0002', 'x/0003'].map((k) => base + k),
    );
    expect(await store.list(`${base}x/`, { startAfter: `${base}x/0002` })).toEqual(
      ['x/0003', 'x/sub/0004'].map((k) => base + k),
    );
    expect(await store.list(`${base}none/`)).toEqual([]);
    expect(await store.listFolders?.(base)).toEqual([`${base}x/`, `${base}y/`]);
  });

  it('pages through a listing longer than one S3 page, and deletes it in batches', async () => {
    const prefix = `${base}many/`;
    const keys = Array.from({ length: 1105 }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
    }
    expect(await store.list(prefix)).toEqual(keys);
    expect(await store.list(prefix, { startAfter: keys[1049] })).toEqual(keys.slice(1050));
    expect(await store.deletePrefix(prefix)).toBe(1105);
    expect(await store.list(prefix)).toEqual([]);
  });

  it('deletes only what is under the prefix', async () => {
    await store.put(`${base}keep/1`, '1');
    await store.put(`${base}drop/1`, '1');
    await store.put(`${base}drop/2/3`, '1');
    expect(await store.deletePrefix(`${base}drop/`)).toBe(2);
    expect(await store.get(`${base}drop/1`)).toBeUndefined();
    expect(await store.get(`${base}keep/1`)).toBeDefined();
    expect(await store.deletePrefix(`${base}drop/`)).toBe(0);
  });

  it('refuses keys that could escape their prefix', async () => {
    for (const key of ['../etc/passwd', '/abs', 'a//b', 'a/../b', 'sp ace']) {
      await expect(store.put(key, 'x')).rejects.toThrow(/invalid blob key/);
    }
  });

  it('describes itself without credentials', () => {
    expect(store.describe()).not.toContain(s3.secretAccessKey);
    expect(store.describe()).not.toContain(s3.accessKeyId);
  });
});

describe('the S3 store', () => {
  it('keeps prefixed deployments apart in one bucket', async () => {
    const a = s3Store('deploy-a');
    const b = s3Store('deploy-b');
    await a.put('sessions/ses_same/session.json', 'a');
    await b.put('sessions/ses_same/session.json', 'b');
    expect(Buffer.from((await a.get('sessions/ses_same/session.json'))!).toString()).toBe('a');
    expect(await b.list('sessions/')).toEqual(['sessions/ses_same/session.json']);
  });

  it('fails loudly, without retrying, when the bucket does not exist', async () => {
    const store = new S3BlobStore(s3.storeOptions('no-such-bucket-here'));
    await expect(store.get('sessions/x/session.json')).rejects.toMatchObject({
      code: 'blob_store_error',
    });
  });
});
