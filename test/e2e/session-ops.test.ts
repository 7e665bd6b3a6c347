import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authFor } from '../helpers/auth-tokens.ts';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { type HttpResult, http } from '../helpers/http.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const MAX_IMPORT_BYTES = 256 * 1024;

let stack: Stack;
let collector: Collector;

beforeAll(async () => {
  stack = await startStack({ workers: 2, env: { MAX_IMPORT_BYTES: String(MAX_IMPORT_BYTES) } });
  collector = await connectCollector(stack.gatewayUrl);
});

afterAll(async () => {
  collector?.close();
  await stack?.stop();
});

const api = (path: string) => `${stack.apiUrl}${path}`;
const README = 'Fork me\nsecond line';

async function newSession(body: Record<string, unknown> = {}): Promise<string> {
  const created = await http('POST', api('/v1/sessions'), {
    title: 'ops',
    files: { 'README.md': README },
    ...body,
  });
  expect(created.status).toBe(201);
  const id = created.body.session.id as string;
  expect((await collector.subscribe(id, '0-0')).ok).toBe(true);
  return id;
}

/** Sends a message and waits for its turn to finish; returns the turn id. */
async function turn(id: string, text = 'Please read README.md'): Promise<string> {
  const posted = await http('POST', api(`/v1/sessions/${id}/messages`), { text });
  expect(posted.status).toBe(202);
  const turnId = posted.body.turnId as string;
  await collector.waitFor((all) => finishedTurns(all).includes(turnId), 30_000);
  return turnId;
}

async function transcript(id: string): Promise<LogEntry[]> {
  const got = await http('GET', api(`/v1/sessions/${id}`));
  expect(got.status).toBe(200);
  return got.body.entries;
}

/** Every file under the session's folder of the blob store (the folder store leaves empty dirs). */
function blobFiles(id: string): string[] {
  const dir = join(stack.dataDir, 'blobs', 'sessions', id);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

async function redisKeysOf(id: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await stack.redis.client.scan(cursor, 'MATCH', `*{${id}}*`, 'COUNT', 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until the worker is done with the session: the lease is released and the manifest it
 * mirrors after each commit (in the background) shows the last entry. A deletion racing a
 * manifest write still in flight could leave that one blob behind (see the README).
 */
async function settled(id: string): Promise<void> {
  const lastSeq = (await http('GET', api(`/v1/sessions/${id}`))).body.session.lastSeq as number;
  await until(
    async () =>
      (await stack.redis.client.exists(`tern:{${id}}:lease`)) === 0 &&
      mirroredLastSeq(id) === lastSeq,
    `session ${id} to settle`,
  );
}

/** The last seq in the session's manifest (0 before the first), as the worker mirrored it. */
function mirroredLastSeq(id: string): number {
  const manifest = join(stack.dataDir, 'blobs', 'sessions', id, 'manifest.json');
  if (!existsSync(manifest)) return 0;
  const envelope = JSON.parse(readFileSync(manifest, 'utf8')) as { manifest: string };
  return (JSON.parse(envelope.manifest) as { lastSeq: number }).lastSeq;
}

const post = (path: string, body?: unknown, headers?: Record<string, string>) =>
  http('POST', api(path), body, headers);
const ndjson = (lines: unknown[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join('');
const importNdjson = (text: string) =>
  post('/v1/sessions/import', text, { 'content-type': 'application/x-ndjson' });

async function exportText(id: string): Promise<{ status: number; type: string; text: string }> {
  const url = api(`/v1/sessions/${id}/export`);
  const res = await fetch(url, { headers: authFor(url) });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text: await res.text(),
  };
}

/** Entries without what an import re-stamps (turn ids and epochs). */
const comparable = (entries: LogEntry[]) =>
  entries.map(({ turnId: _t, epoch: _e, ...rest }) => rest);

const errorOf = (res: HttpResult) => [res.status, res.body?.error?.code];

describe('fork', () => {
  let source: string;
  let entries: LogEntry[];

  beforeAll(async () => {
    source = await newSession();
    await turn(source);
    await turn(source, 'Please read README.md again');
    entries = await transcript(source);
    expect(entries).toHaveLength(10);
  });

  it('forks at a middle seq and at the end: each transcript is the source’s prefix', async () => {
    const middle = await post(`/v1/sessions/${source}/fork`, { atSeq: 3 });
    expect(middle.status).toBe(201);
    expect(middle.body.session).toMatchObject({
      status: 'idle',
      lastSeq: 3,
      inputs: 1,
      title: 'ops',
      forkedFrom: { sessionId: source, seq: 3 },
    });
    expect(await transcript(middle.body.session.id)).toEqual(entries.slice(0, 3));

    const end = await post(`/v1/sessions/${source}/fork`, { title: 'the whole thing' });
    expect(end.status).toBe(201);
    expect(end.body.session).toMatchObject({
      title: 'the whole thing',
      lastSeq: 10,
      inputs: 2,
      forkedFrom: { sessionId: source, seq: 10 },
    });
    expect(await transcript(end.body.session.id)).toEqual(entries);

    // The fork shares the source's segments: none of its own were written.
    expect(blobFiles(end.body.session.id).filter((f) => f.startsWith('segments/'))).toEqual([]);
    // Nor workspace blobs: it reads its source's workspace store, from its own base.
    expect(blobFiles(end.body.session.id)).toContain('ws/base.json');
    expect(blobFiles(end.body.session.id).filter((f) => f.startsWith('ws/blobs/'))).toEqual([]);

    const list = await http('GET', api('/v1/sessions?limit=3'));
    expect(list.body.sessions.slice(0, 2)).toEqual([
      expect.objectContaining({
        id: end.body.session.id,
        forkedFrom: { sessionId: source, seq: 10 },
      }),
      expect.objectContaining({ id: middle.body.session.id }),
    ]);
    expect(list.body.sessions[2]).toMatchObject({ id: source });
    expect(list.body.sessions[2].forkedFrom).toBeUndefined();
  });

  it('lets a fork and its source go on independently, with no cross-talk', async () => {
    const forked = (await post(`/v1/sessions/${source}/fork`, { atSeq: 5 })).body.session
      .id as string;
    expect((await collector.subscribe(forked, '0-0')).ok).toBe(true);
    const [forkTurn, sourceTurn] = await Promise.all([
      turn(forked, 'Fork says hello'),
      turn(source, 'Source says hello'),
    ]);
    expect(forkTurn).toBe(`${forked}-t2`);
    expect(sourceTurn).toBe(`${source}-t3`);

    const forkEntries = await transcript(forked);
    expect(forkEntries.slice(0, 5)).toEqual(entries.slice(0, 5));
    expect(forkEntries.slice(5).map((e) => [e.seq, e.turnId])).toEqual(
      forkEntries.slice(5).map((_, i) => [6 + i, forkTurn]),
    );
    expect(JSON.stringify(forkEntries)).not.toContain('Source says hello');
    const sourceEntries = await transcript(source);
    expect(sourceEntries.slice(0, 10)).toEqual(entries);
    expect(sourceEntries.slice(10).every((e) => e.turnId === sourceTurn)).toBe(true);
    expect(JSON.stringify(sourceEntries)).not.toContain('Fork says hello');

    const eventsOf = (id: string) =>
      collector.envelopes.filter((e) => e.sessionId === id).map((e) => e.event);
    const turnIds = (id: string) =>
      new Set(eventsOf(id).flatMap((e) => ('turnId' in e ? [e.turnId] : [e.entry.turnId])));
    expect(turnIds(forked)).toEqual(new Set([forkTurn]));
    expect(turnIds(source).has(forkTurn)).toBe(false);
    // What the fork's watchers saw is exactly what its log gained.
    const streamed = eventsOf(forked).flatMap((e) => (e.type === 'entry' ? [e.entry] : []));
    expect(streamed).toEqual(forkEntries.slice(5));
  });

  it('survives the deletion of its source, which goes for good once the fork does', async () => {
    const parent = await newSession();
    await turn(parent);
    const parentEntries = await transcript(parent);
    const forked = (await post(`/v1/sessions/${parent}/fork`, { atSeq: 4 })).body.session
      .id as string;
    await settled(parent);

    const deleted = await http('DELETE', api(`/v1/sessions/${parent}`));
    expect(deleted.status).toBe(204);
    expect((await http('GET', api(`/v1/sessions/${parent}`))).status).toBe(404);
    // Only what the fork shares stays (segments and the workspace store), under a tombstone.
    expect(blobFiles(parent).length).toBeGreaterThan(0);
    expect(blobFiles(parent).every((f) => /^(segments|ws)\//.test(f))).toBe(true);
    expect(await redisKeysOf(parent)).toEqual([
      `tern:{${parent}}:deleted`,
      `tern:{${parent}}:forks`,
    ]);

    expect(await transcript(forked)).toEqual(parentEntries.slice(0, 4));
    expect((await collector.subscribe(forked, '0-0')).ok).toBe(true);
    await turn(forked);
    const after = await transcript(forked);
    expect(after.slice(0, 4)).toEqual(parentEntries.slice(0, 4));
    expect(after.at(-1)).toMatchObject({ kind: 'assistant_message', finishReason: 'stop' });
    expect((after.at(-1) as { text: string }).text).toContain('Fork me');

    await settled(forked);
    expect((await http('DELETE', api(`/v1/sessions/${forked}`))).status).toBe(204);
    for (const id of [parent, forked]) {
      expect(blobFiles(id)).toEqual([]);
      expect(await redisKeysOf(id)).toEqual([]);
    }
  });
});

describe('export and import', () => {
  it('round-trips a session: equal transcript and workspace under a fresh id', async () => {
    const id = await newSession({
      systemPrompt: 'Answer briefly.',
      files: { 'README.md': README, 'src/main.py': 'print("hi")\n' },
    });
    await turn(id);
    const original = await transcript(id);

    const exported = await exportText(id);
    expect(exported.status).toBe(200);
    expect(exported.type).toMatch(/^application\/x-ndjson/);
    const lines = exported.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      type: 'session',
      format: 'tern.session',
      version: 1,
      sessionId: id,
      title: 'ops',
      systemPrompt: 'Answer briefly.',
      forkedFrom: null,
      lastSeq: 5,
    });
    expect(lines.slice(1, 6).map((l) => l.entry)).toEqual(original);
    expect(lines.slice(6)).toEqual([
      { type: 'file', path: 'README.md', base64: Buffer.from(README).toString('base64') },
      {
        type: 'file',
        path: 'src/main.py',
        base64: Buffer.from('print("hi")\n').toString('base64'),
      },
      { type: 'end', entries: 5, files: 2 },
    ]);

    const imported = await importNdjson(exported.text);
    expect(imported.status).toBe(201);
    const copy = imported.body.session.id as string;
    expect(copy).not.toBe(id);
    expect(imported.body.session).toMatchObject({ status: 'idle', lastSeq: 5, inputs: 1 });
    const copied = await transcript(copy);
    expect(comparable(copied)).toEqual(comparable(original));
    expect(copied.every((e) => e.turnId === `${copy}-t1`)).toBe(true);
    const again = (await exportText(copy)).text.trimEnd().split('\n');
    expect(again.slice(6)).toEqual(exported.text.trimEnd().split('\n').slice(6));

    // The imported session is a working one: its next turn reads the restored workspace.
    expect((await collector.subscribe(copy, '0-0')).ok).toBe(true);
    const next = await turn(copy);
    expect(next).toBe(`${copy}-t2`);
    expect((await transcript(copy)).at(-1)).toMatchObject({ kind: 'assistant_message' });
    expect(((await transcript(copy)).at(-1) as { text: string }).text).toContain('Fork me');
  });

  it('refuses bad exports with a 4xx naming the line', async () => {
    const id = await newSession();
    await turn(id);
    const good = (await exportText(id)).text;
    const lines = good.trimEnd().split('\n');

    const malformed = [...lines.slice(0, 3), '{"type":"entry","entry":', ...lines.slice(3)];
    const bad = await importNdjson(`${malformed.join('\n')}\n`);
    expect(errorOf(bad)).toEqual([400, 'invalid_import']);
    expect(bad.body.error.details).toEqual({ line: 4 });
    expect(bad.body.error.message).toMatch(/^line 4: /);

    const notEntry = lines.map((l, i) =>
      i === 2 ? JSON.stringify({ type: 'entry', entry: { kind: 'nope', seq: 2 } }) : l,
    );
    const refused = await importNdjson(`${notEntry.join('\n')}\n`);
    expect(errorOf(refused)).toEqual([400, 'invalid_import']);
    expect(refused.body.error.details).toEqual({ line: 3 });

    const header = { ...JSON.parse(lines[0]!), version: 99 };
    const newer = await importNdjson(`${[JSON.stringify(header), ...lines.slice(1)].join('\n')}\n`);
    expect(errorOf(newer)).toEqual([400, 'unsupported_format']);

    const escaping = lines.map((l) =>
      l.includes('"type":"file"')
        ? JSON.stringify({ type: 'file', path: '../../etc/x', base64: '' })
        : l,
    );
    expect(errorOf(await importNdjson(`${escaping.join('\n')}\n`))).toEqual([
      400,
      'invalid_import',
    ]);

    const truncated = await importNdjson(`${lines.slice(0, -1).join('\n')}\n`);
    expect(errorOf(truncated)).toEqual([400, 'invalid_import']);
    expect(truncated.body.error.message).toContain('truncated');

    const big = ndjson([
      JSON.parse(lines[0]!),
      { type: 'file', path: 'big.bin', base64: 'A'.repeat(MAX_IMPORT_BYTES) },
    ]);
    expect(errorOf(await importNdjson(big))).toEqual([413, 'payload_too_large']);

    expect(errorOf(await post('/v1/sessions/import', { lines }))).toEqual([
      415,
      'unsupported_media_type',
    ]);
    expect(errorOf(await post('/v1/sessions/import'))).toEqual([415, 'unsupported_media_type']);
    expect(errorOf(await importNdjson(''))).toEqual([400, 'invalid_import']);
  });
});

describe('delete', () => {
  it('removes every blob and Redis key of the session; it answers 404 after', async () => {
    const id = await newSession();
    await turn(id);
    await settled(id);
    const job = `bull:tern-turns:turn-${id}-1`;
    await until(async () => (await stack.redis.client.hget(job, 'finishedOn')) !== null, 'the job');
    expect(blobFiles(id).length).toBeGreaterThan(5);
    const keys = await redisKeysOf(id);
    expect(keys).toContain(`tern:{${id}}:events`);
    expect(keys).toContain(`tern:{${id}}:meta`);
    expect(await stack.redis.client.keys(`bull:*${id}*`)).toContain(job);

    const deleted = await http('DELETE', api(`/v1/sessions/${id}`));
    expect(deleted.status).toBe(204);
    expect(blobFiles(id)).toEqual([]);
    expect(await redisKeysOf(id)).toEqual([]);
    expect(await stack.redis.client.zscore('tern:sessions', id)).toBeNull();
    // The queue's record of the finished turn job named the session; it went too.
    expect(await stack.redis.client.keys(`bull:*${id}*`)).toEqual([]);

    const notFound = [
      await http('GET', api(`/v1/sessions/${id}`)),
      await http('PATCH', api(`/v1/sessions/${id}`), { title: 'x' }),
      await post(`/v1/sessions/${id}/messages`, { text: 'hello?' }),
      await post(`/v1/sessions/${id}/fork`, {}),
      await post(`/v1/sessions/${id}/cancel`),
      await http('GET', api(`/v1/sessions/${id}/export`)),
      await http('GET', api(`/v1/sessions/${id}/tool-proposals`)),
      await http('DELETE', api(`/v1/sessions/${id}`)),
    ];
    expect(notFound.map(errorOf)).toEqual(notFound.map(() => [404, 'session_not_found']));
    expect(await collector.subscribe(id, '0-0')).toMatchObject({
      ok: false,
      code: 'session_not_found',
    });
    // A PATCH or message to the deleted session left no stray key behind.
    expect(await redisKeysOf(id)).toEqual([]);
    const list = await http('GET', api('/v1/sessions?limit=200'));
    expect(list.body.sessions.map((s: { id: string }) => s.id)).not.toContain(id);
  });

  it('refuses to delete a running session unless forced, and then fences its turn', async () => {
    const id = await newSession({ sim: { ttftMs: 60_000 } });
    const posted = await post(`/v1/sessions/${id}/messages`, { text: 'take your time' });
    expect(posted.status).toBe(202);
    // The turn has started once its user message is committed (and mirrored: see `settled`).
    await until(() => mirroredLastSeq(id) === 1, 'the turn to start');
    expect(await stack.redis.client.exists(`tern:{${id}}:lease`)).toBe(1);
    const busy = await http('DELETE', api(`/v1/sessions/${id}`));
    expect(errorOf(busy)).toEqual([409, 'session_busy']);
    expect((await http('GET', api(`/v1/sessions/${id}`))).body.session.status).toBe('running');

    const forced = await http('DELETE', api(`/v1/sessions/${id}?force=true`));
    expect(forced.status).toBe(204);
    expect(errorOf(await http('GET', api(`/v1/sessions/${id}`)))).toEqual([
      404,
      'session_not_found',
    ]);
    // The worker hears the cancel, finds its lease gone and stops without writing to Redis.
    await until(
      () =>
        stack.processes
          .filter((p) => p.name.startsWith('worker'))
          .some((p) => {
            const log = readFileSync(p.logFile, 'utf8');
            return log.split('\n').some((l) => l.includes(id) && l.includes('lease lost'));
          }),
      'the worker to stop the turn',
    );
    expect(await redisKeysOf(id)).toEqual([]);
    expect(errorOf(await http('GET', api(`/v1/sessions/${id}`)))).toEqual([
      404,
      'session_not_found',
    ]);
    // The step it was committing when fenced was written after the deletion; it removed it.
    expect(blobFiles(id)).toEqual([]);
  });
});

describe('bad input gets a 4xx on every session operation', () => {
  let id: string;
  beforeAll(async () => {
    id = await newSession();
    await turn(id);
  });

  it.each([
    [
      'fork: negative seq',
      () => post(`/v1/sessions/${id}/fork`, { atSeq: -1 }),
      400,
      'invalid_request',
    ],
    [
      'fork: seq as text',
      () => post(`/v1/sessions/${id}/fork`, { atSeq: '3' }),
      400,
      'invalid_request',
    ],
    [
      'fork: fractional seq',
      () => post(`/v1/sessions/${id}/fork`, { atSeq: 1.5 }),
      400,
      'invalid_request',
    ],
    [
      'fork: seq past the end',
      () => post(`/v1/sessions/${id}/fork`, { atSeq: 6 }),
      400,
      'seq_out_of_range',
    ],
    [
      'fork: unknown field',
      () => post(`/v1/sessions/${id}/fork`, { at: 1 }),
      400,
      'invalid_request',
    ],
    [
      'fork: empty title',
      () => post(`/v1/sessions/${id}/fork`, { title: ' ' }),
      400,
      'invalid_request',
    ],
    [
      'fork: malformed JSON',
      () => post(`/v1/sessions/${id}/fork`, '{"atSeq":'),
      400,
      'invalid_json',
    ],
    [
      'fork: not JSON',
      () => post(`/v1/sessions/${id}/fork`, 'atSeq=1', { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    ],
    [
      'fork: unknown session',
      () => post('/v1/sessions/ses_doesnotexist00/fork', {}),
      404,
      'session_not_found',
    ],
    ['fork: malformed id', () => post('/v1/sessions/..%2Fx/fork', {}), 404, 'session_not_found'],
    [
      'export: unknown session',
      () => http('GET', api('/v1/sessions/ses_doesnotexist00/export')),
      404,
      'session_not_found',
    ],
    [
      'export: malformed id',
      () => http('GET', api('/v1/sessions/not-an-id/export')),
      404,
      'session_not_found',
    ],
    [
      'delete: unknown session',
      () => http('DELETE', api('/v1/sessions/ses_doesnotexist00')),
      404,
      'session_not_found',
    ],
    [
      'delete: malformed id',
      () => http('DELETE', api('/v1/sessions/x%00y')),
      404,
      'session_not_found',
    ],
    [
      'delete: bad force',
      () => http('DELETE', api(`/v1/sessions/${id}?force=yes`)),
      400,
      'invalid_request',
    ],
    [
      'delete: unknown query',
      () => http('DELETE', api(`/v1/sessions/${id}?forse=true`)),
      400,
      'invalid_request',
    ],
  ] as const)('%s', async (_name, call, status, code) => {
    expect(errorOf(await call())).toEqual([status, code]);
  });

  it('leaves the session intact after all that', async () => {
    expect(await transcript(id)).toHaveLength(5);
  });
});
