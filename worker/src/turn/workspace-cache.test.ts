import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '@tern/shared/session/blob-checksum';
import type { BlobStore } from '@tern/shared/session/blob-store';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { blobKeys } from '@tern/shared/session/session-keys';
import { seedWorkspace } from '@tern/shared/session/workspace-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTool } from '../agent/agent-types.ts';
import { trackWorkspaceWrites, WorkspaceCache } from './workspace-cache.ts';

let dir: string;
let blobs: FileBlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tern-ws-cache-'));
  blobs = new FileBlobStore(join(dir, 'store'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const limits = { maxFiles: 1000, maxBytes: 1_000_000 };
let n = 0;

/** A worker's cache: its own local folder, like a worker on another machine. */
const worker = (name: string) => new WorkspaceCache(join(dir, `${name}-${++n}`));

/** The store with every `get` and `put` key recorded. */
function recording(inner: BlobStore): BlobStore & { gets: string[]; puts: string[] } {
  const gets: string[] = [];
  const puts: string[] = [];
  return {
    gets,
    puts,
    get: (key) => {
      gets.push(key);
      return inner.get(key);
    },
    put: (key, body) => {
      puts.push(key);
      return inner.put(key, body);
    },
    list: (prefix, options) => inner.list(prefix, options),
    deletePrefix: (prefix) => inner.deletePrefix(prefix),
    describe: () => inner.describe(),
  };
}

/** A session with a seed, and a log that grows one entry per committed tree. */
async function session(files: Record<string, string>) {
  const id = `ses_wscache${++n}`;
  await seedWorkspace(
    blobs,
    id,
    Object.entries(files).map(([path, content]) => ({ path, bytes: Buffer.from(content) })),
  );
  const history: LogEntry[] = [];
  const commit = (workspace: string | undefined) => {
    history.push({
      seq: history.length + 1,
      turnId: `${id}-t1`,
      epoch: 1,
      at: 0,
      kind: 'tool_finished',
      callId: `c${history.length}`,
      name: 'bash',
      ok: true,
      output: '',
      durationMs: 1,
      ...(workspace ? { workspace } : {}),
    });
  };
  return { id, history, commit };
}

const read = (path: string) => readFile(path, 'utf8');

describe('WorkspaceCache', () => {
  it('carries a step’s edits to another worker, which downloads only what it lacks', async () => {
    const s = await session({ 'README.md': 'seed', 'src/a.ts': 'a', 'src/b.ts': 'b' });
    const a = worker('a');
    const store = recording(blobs);
    const ws = await a.open({ blobs: store }, s.id, s.history, limits);
    expect(await read(join(ws.dir, 'README.md'))).toBe('seed');

    ws.touch();
    await writeFile(join(ws.dir, 'README.md'), 'edited by a tool');
    await writeFile(join(ws.dir, 'notes.txt'), 'new file');
    await unlink(join(ws.dir, 'src/b.ts'));
    store.gets.length = 0;
    const first = await ws.snapshot();
    expect(first.tree).toBeDefined();
    expect(first.uploaded).toBe(2);
    expect(store.gets).toEqual([]);
    s.commit(first.tree);

    const b = worker('b');
    const other = recording(blobs);
    const there = await b.open({ blobs: other }, s.id, s.history, limits);
    expect(await read(join(there.dir, 'README.md'))).toBe('edited by a tool');
    expect(await read(join(there.dir, 'notes.txt'))).toBe('new file');
    expect((await readdir(join(there.dir, 'src'))).sort()).toEqual(['a.ts']);
    // Base, tree, and the three blobs of the tree.
    expect(other.gets.filter((k) => k.includes('/ws/blobs/'))).toHaveLength(3);
  });

  it('does nothing when the folder already holds the tree, and applies only the difference when it holds an older one', async () => {
    const s = await session({ 'one.txt': '1', 'two.txt': '2', 'three.txt': '3' });
    const a = worker('a');
    const b = worker('b');
    const store = recording(blobs);
    const wsA = await a.open({ blobs: store }, s.id, s.history, limits);

    const wsB = await b.open({ blobs }, s.id, s.history, limits);
    wsB.touch();
    await writeFile(join(wsB.dir, 'two.txt'), 'two, edited on b');
    const saved = await wsB.snapshot();
    expect(saved.uploaded).toBe(1);
    s.commit(saved.tree);

    store.gets.length = 0;
    await a.open({ blobs: store }, s.id, s.history, limits);
    expect(store.gets.filter((k) => k.includes('/ws/blobs/'))).toEqual([
      blobKeys.workspaceBlob(s.id, sha256Hex('two, edited on b')),
    ]);
    expect(await read(join(wsA.dir, 'two.txt'))).toBe('two, edited on b');

    // The same log again: the folder holds its tree already; the store is not asked anything.
    store.gets.length = 0;
    await a.open({ blobs: store }, s.id, s.history, limits);
    expect(store.gets).toEqual([]);
  });

  it('uploads only the one blob that changed, and nothing when tools changed nothing', async () => {
    const s = await session({ 'a.txt': 'a', 'b.txt': 'b' });
    const a = worker('a');
    const store = recording(blobs);
    const ws = await a.open({ blobs: store }, s.id, s.history, limits);
    ws.touch();
    await writeFile(join(ws.dir, 'a.txt'), 'a2');
    const saved = await ws.snapshot();
    expect(store.puts.filter((k) => k.includes('/ws/blobs/'))).toEqual([
      blobKeys.workspaceBlob(s.id, sha256Hex('a2')),
    ]);
    s.commit(saved.tree);

    ws.touch();
    const unchanged = await ws.snapshot();
    expect(unchanged).toMatchObject({ tree: undefined, uploaded: 0 });
    // Back to an earlier content: a new tree, but no upload of a blob the store has.
    ws.touch();
    await writeFile(join(ws.dir, 'a.txt'), 'a');
    const reverted = await ws.snapshot();
    expect(reverted.tree).toBeDefined();
    expect(reverted.uploaded).toBe(0);
  });

  it('puts back the committed tree when a step’s changes were never committed', async () => {
    const s = await session({ 'keep.txt': 'committed' });
    const a = worker('a');
    const ws = await a.open({ blobs }, s.id, s.history, limits);
    // A tool ran, then the worker lost the session before any commit.
    ws.touch();
    await writeFile(join(ws.dir, 'keep.txt'), 'uncommitted');
    await writeFile(join(ws.dir, 'stray.txt'), 'uncommitted');
    await a.open({ blobs }, s.id, s.history, limits);
    expect(await readdir(ws.dir)).toEqual(['keep.txt']);
    expect(await read(join(ws.dir, 'keep.txt'))).toBe('committed');
  });

  it('refuses a snapshot past the limits and starts the next input from the committed tree', async () => {
    const s = await session({ 'small.txt': 'ok' });
    const a = worker('a');
    const tight = { maxFiles: 3, maxBytes: 1_000_000 };
    const ws = await a.open({ blobs }, s.id, s.history, tight);
    ws.touch();
    for (let i = 0; i < 4; i++) await writeFile(join(ws.dir, `big-${i}`), 'x');
    await expect(ws.snapshot()).rejects.toMatchObject({ code: 'workspace_too_large' });
    const next = await a.open({ blobs }, s.id, s.history, tight);
    expect(await readdir(next.dir)).toEqual(['small.txt']);
  });

  it('never uses a corrupt blob: the restore fails naming the session and key', async () => {
    const s = await session({ 'a.txt': 'genuine' });
    const key = blobKeys.workspaceBlob(s.id, sha256Hex('genuine'));
    await blobs.put(key, 'forged!');
    const b = worker('b');
    await expect(b.open({ blobs }, s.id, s.history, limits)).rejects.toMatchObject({
      code: 'corrupt_blob',
      sessionId: s.id,
      key,
      reason: 'checksum',
    });
    await blobs.put(key, 'genuine');
    const ws = await b.open({ blobs }, s.id, s.history, limits);
    expect(await read(join(ws.dir, 'a.txt'))).toBe('genuine');
  });
});

describe('trackWorkspaceWrites', () => {
  it('marks the workspace touched before a tool that may write runs, not for read-only ones', async () => {
    const calls: string[] = [];
    const tool = (name: string): AgentTool => ({
      spec: { name, description: name, parameters: { type: 'object', properties: {} } },
      idempotent: true,
      execute: async () => {
        calls.push(name);
        return { ok: true, output: '' };
      },
    });
    const tools = new Map([
      ['read_file', tool('read_file')],
      ['bash', tool('bash')],
    ]);
    const tracked = trackWorkspaceWrites(tools, { touch: () => calls.push('touch') });
    const context = { signal: new AbortController().signal, sessionId: 's' };
    await tracked.get('read_file')!.execute({}, context);
    expect(calls).toEqual(['read_file']);
    await tracked.get('bash')!.execute({}, context);
    expect(calls).toEqual(['read_file', 'touch', 'bash']);
  });
});
