import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { TernError } from '../errors/tern-error.ts';
import { FileBlobStore } from './file-blob-store.ts';
import type { LogEntry } from './log-entry.ts';
import { exportSession } from './session-export.ts';
import { forkSession } from './session-fork.ts';
import { importSession, parseImport } from './session-import.ts';
import { SessionStore } from './session-store.ts';
import { turn, writeTurns } from './session-test-log.ts';
import { seedWorkspace } from './workspace-store.ts';

let redis: TestRedis;
let dir: string;
let store: SessionStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-import-'));
  store = new SessionStore(redis.client, new FileBlobStore(dir));
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function exported(id: string): Promise<string> {
  const lines = await exportSession(store, id, 5_000);
  if (!lines) throw new Error('no such session');
  let text = '';
  for await (const line of lines) text += line;
  return text;
}

const header = {
  type: 'session',
  format: 'tern.session',
  version: 1,
  sessionId: 'ses_elsewhere0001',
  title: 'Imported',
  model: 'openai:tern-sim',
  systemPrompt: '',
  createdAt: 1,
  forkedFrom: null,
  lastSeq: 1,
  exportedAt: 2,
};
const entry = {
  type: 'entry',
  entry: { kind: 'user_message', text: 'hi', inputSeq: 1, seq: 1, turnId: 'a-t1', epoch: 3, at: 9 },
};
const ndjson = (...lines: unknown[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join('');
const end = (entries: number, files: number) => ({ type: 'end', entries, files });

function refusal(text: string): { code: string; line: unknown; message: string } {
  try {
    parseImport(text);
  } catch (error) {
    if (!TernError.isInstance(error)) throw error;
    return { code: error.code, line: error.details?.line, message: error.message };
  }
  throw new Error('the import was accepted');
}

describe('export and import', () => {
  it('round-trips the log and the workspace (binary files too) into a new session', async () => {
    const meta = await store.create({
      title: 'Round trip',
      model: 'anthropic:claude-sonnet-4-5',
      systemPrompt: 'Be brief.',
      sim: { scenario: 'demo' },
      files: { 'docs/readme.md': '# hello\n' },
    });
    await seedWorkspace(store.blobs, meta.id, [
      { path: 'bin/blob', bytes: Uint8Array.of(0, 255, 10) },
      { path: 'docs/readme.md', bytes: Buffer.from('# hello\n') },
    ]);
    const original = await writeTurns(store, meta.id, [turn('one'), turn('two')], 3);
    const forked = await forkSession(store, meta.id, { atSeq: 3 });
    if (forked.kind !== 'forked') throw new Error(forked.kind);

    const text = await exported(forked.meta.id);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      type: 'session',
      format: 'tern.session',
      version: 1,
      sessionId: forked.meta.id,
      title: 'Round trip',
      model: 'anthropic:claude-sonnet-4-5',
      systemPrompt: 'Be brief.',
      sim: { scenario: 'demo' },
      forkedFrom: { sessionId: meta.id, seq: 3 },
      lastSeq: 3,
      exportedAt: 5_000,
    });
    expect(lines.slice(1, 4).map((l) => l.entry)).toEqual(original.slice(0, 3));
    expect(lines.slice(4)).toEqual([
      { type: 'file', path: 'bin/blob', base64: 'AP8K' },
      { type: 'file', path: 'docs/readme.md', base64: Buffer.from('# hello\n').toString('base64') },
      { type: 'end', entries: 3, files: 2 },
    ]);

    const imported = await importSession(store, parseImport(text));
    expect(imported.id).not.toBe(forked.meta.id);
    expect(await store.meta(imported.id)).toMatchObject({
      title: 'Round trip',
      model: 'anthropic:claude-sonnet-4-5',
      systemPrompt: 'Be brief.',
      sim: '{"scenario":"demo"}',
      status: 'idle',
      lastSeq: 3,
      inputSeq: 2,
      doneInputSeq: 2,
    });
    const entries = await store.entries(imported.id);
    const strip = ({ turnId: _t, epoch: _e, ...rest }: LogEntry) => rest;
    expect(entries.map(strip)).toEqual(original.slice(0, 3).map(strip));
    expect(entries.map((e) => [e.turnId, e.epoch])).toEqual([
      [`${imported.id}-t1`, 0],
      [`${imported.id}-t1`, 0],
      [`${imported.id}-t2`, 0],
    ]);
    const again = (await exported(imported.id)).split('\n');
    expect(again.slice(4)).toEqual(text.split('\n').slice(4));
  });

  it('reads a minimal export and tolerates CRLF line ends', () => {
    const parsed = parseImport(ndjson(header, entry, end(1, 0)).replaceAll('\n', '\r\n'));
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.files).toEqual([]);
  });

  it('refuses a bad line with its number', () => {
    expect(refusal(`${ndjson(header)}{"type": "entry", \n${ndjson(end(0, 0))}`)).toMatchObject({
      code: 'invalid_import',
      line: 2,
    });
    const badEntry = { type: 'entry', entry: { ...entry.entry, kind: 'telepathy' } };
    expect(refusal(ndjson(header, entry, badEntry, end(2, 0)))).toMatchObject({
      code: 'invalid_import',
      line: 3,
    });
    const gap = { type: 'entry', entry: { ...entry.entry, seq: 3 } };
    expect(refusal(ndjson(header, entry, gap, end(2, 0)))).toMatchObject({ line: 3 });
    expect(refusal(ndjson(header, { type: 'comment' }, end(0, 0)))).toMatchObject({ line: 2 });
    const file = { type: 'file', path: 'a.txt', base64: 'aGk=' };
    expect(refusal(ndjson(header, file, entry, end(1, 1)))).toMatchObject({ line: 3 });
    expect(refusal(ndjson(header, { ...file, base64: 'not base64!' }, end(0, 1)))).toMatchObject({
      line: 2,
    });
    expect(refusal(ndjson(header, file, file, end(0, 2)))).toMatchObject({ line: 3 });
  });

  it('refuses another format or version, and a malformed descriptor', () => {
    expect(refusal(ndjson({ ...header, version: 2 }, end(0, 0)))).toMatchObject({
      code: 'unsupported_format',
      line: 1,
    });
    expect(refusal(ndjson({ hello: 'world' }))).toMatchObject({ code: 'unsupported_format' });
    expect(refusal(ndjson({ ...header, model: 'gpt-4' }, end(0, 0)))).toMatchObject({
      code: 'invalid_import',
      line: 1,
    });
    expect(refusal('')).toMatchObject({ code: 'invalid_import', line: 1 });
  });

  it('refuses a truncated export: no end line, counts that differ, lines after the end', () => {
    expect(refusal(ndjson(header, entry))).toMatchObject({ line: 3 });
    expect(refusal(ndjson(header, entry, end(2, 0)))).toMatchObject({ line: 3 });
    expect(refusal(ndjson(header, end(0, 0), entry))).toMatchObject({ line: 3 });
  });

  it.each([
    '../escape.txt',
    'a/../../escape.txt',
    '/etc/passwd',
    'a/./b',
    'a//b',
    'trailing/',
    'nul\u0000byte',
  ])('refuses the workspace path %j', (path) => {
    const file = { type: 'file', path, base64: '' };
    expect(refusal(ndjson(header, file, end(0, 1)))).toMatchObject({
      code: 'invalid_import',
      line: 2,
    });
  });

  it('accepts any name a workspace can hold, and modes', () => {
    const files = [
      { type: 'file', path: 'docs/My Notes (1).md', base64: 'aGk=' },
      { type: 'file', path: 'données/é.txt', base64: '' },
      { type: 'file', path: 'run.sh', base64: '', mode: 0o100755 },
      {
        type: 'file',
        path: 'link',
        base64: Buffer.from('run.sh').toString('base64'),
        mode: 0o120000,
      },
      { type: 'file', path: 'empty', base64: '', mode: 0o040000 },
    ];
    const parsed = parseImport(ndjson(header, entry, ...files, end(1, files.length)));
    expect(parsed.files.map((f) => [f.path, f.mode])).toEqual([
      ['docs/My Notes (1).md', undefined],
      ['données/é.txt', undefined],
      ['run.sh', 0o100755],
      ['link', 0o120000],
      ['empty', 0o040000],
    ]);
  });

  it('refuses a file that is also a folder of another path, naming the line', () => {
    const files = [
      { type: 'file', path: 'a', base64: '' },
      { type: 'file', path: 'a/b', base64: '' },
    ];
    expect(refusal(ndjson(header, entry, ...files, end(1, 2)))).toMatchObject({
      code: 'invalid_import',
      line: 4,
    });
  });
});
