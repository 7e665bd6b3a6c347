import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestTarEntry } from '@tern/shared/batch/tar-test-kit';
import {
  BATCH_QUEUE,
  BATCH_TARGET_QUEUE,
  batchJobId,
  batchTargetJobId,
} from '@tern/shared/queue/batch-queue';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchJob,
  batchProject,
  tarballSource,
  writeBatchProject,
} from '../helpers/batch-api-fixtures.ts';
import { type HttpResult, http } from '../helpers/http.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

// POST /v1/batches and the routes of one batch, against the real API process: every bad input
// of issue 8 is a 4xx with its code, and a good one is stored (snapshot seeded, targets listed)
// without any dispatcher running.

let stack: Stack;
let allowed: string;
let outside: string;
let otherToken: string;

beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), 'tern-batch-api-'));
  allowed = join(work, 'allowed');
  outside = join(work, 'outside');
  writeBatchProject(join(allowed, 'repo'));
  writeBatchProject(outside);
  stack = await startStack({ workers: 0, env: { BATCH_ALLOWED_DIRS: allowed } });
  otherToken = await stack.addUser('mallory');
});
afterAll(async () => {
  await stack?.stop();
  if (allowed) rmSync(join(allowed, '..'), { recursive: true, force: true });
});

const api = (path: string) => `${stack.apiUrl}${path}`;
const post = (body: unknown) => http('POST', api('/v1/batches'), body);

/**
 * A request with a JSON body of `bytes` (a tarball field of `A`s), streamed in pieces so the test
 * never holds it whole. The API reads an oversize body to its end before it answers (so the
 * client is never cut off mid-send), hence the whole body is sent.
 */
function postLargeBody(path: string, bytes: number): Promise<HttpResult> {
  const url = new URL(api(path));
  const head = Buffer.from('{"source":{"kind":"tarball","base64":"');
  const tail = Buffer.from('"},"targets":{"globs":["**"]}}');
  const chunk = Buffer.alloc(1024 * 1024, 'A');
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.token}`,
          'content-type': 'application/json',
          'content-length': String(bytes),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (piece: string) => {
          text += piece;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: new Headers() }),
        );
      },
    );
    req.on('error', reject);
    const write = async () => {
      let left = bytes - head.length - tail.length;
      req.write(head);
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!req.write(piece)) await new Promise((r) => req.once('drain', r));
      }
      req.end(tail);
    };
    write().catch(reject);
  });
}

describe('POST /v1/batches refuses bad input with a 4xx and its code', () => {
  const cases: [string, () => Promise<HttpResult>, number, string][] = [
    ['no source', () => post({ targets: { globs: ['src/**'] } }), 400, 'missing_source'],
    [
      'a server directory that does not exist',
      () => post(batchJob({ source: { kind: 'directory', path: join(allowed, 'nope') } })),
      400,
      'snapshot_not_found',
    ],
    [
      'a server directory outside BATCH_ALLOWED_DIRS',
      () => post(batchJob({ source: { kind: 'directory', path: outside } })),
      403,
      'snapshot_dir_not_allowed',
    ],
    [
      'a way out of the allowed folder with ..',
      () => post(batchJob({ source: { kind: 'directory', path: `${allowed}/../outside` } })),
      403,
      'snapshot_dir_not_allowed',
    ],
    [
      'an unknown framework',
      () => post(batchJob({ framework: 'mocha' })),
      400,
      'unknown_framework',
    ],
    ['an empty target list', () => post(batchJob({ targets: { globs: [] } })), 400, 'no_targets'],
    ['no targets field', () => post({ source: tarballSource(batchProject) }), 400, 'no_targets'],
    [
      'globs that match nothing',
      () => post(batchJob({ targets: { globs: ['lib/**/*.ts'] } })),
      400,
      'no_targets',
    ],
    [
      'a tarball with a ../ path',
      () =>
        post(
          batchJob({
            source: tarballSource([
              ...batchProject,
              { type: 'file', path: '../evil.ts', content: 'x' },
            ]),
          }),
        ),
      400,
      'snapshot_path_escape',
    ],
    [
      'a tarball with a symlink out of the workspace',
      () =>
        post(
          batchJob({
            source: tarballSource([
              ...batchProject,
              { type: 'symlink', path: 'src/x.ts', target: '../../etc/passwd' },
            ]),
          }),
        ),
      400,
      'snapshot_symlink_escape',
    ],
    [
      'a tarball with an absolute symlink',
      () =>
        post(
          batchJob({
            source: tarballSource([
              ...batchProject,
              { type: 'symlink', path: 'passwd', target: '/etc/passwd' },
            ]),
          }),
        ),
      400,
      'snapshot_symlink_escape',
    ],
    [
      'a source that is not base64',
      () => post(batchJob({ source: { kind: 'tarball', base64: 'not base64!' } })),
      400,
      'invalid_source',
    ],
    [
      'bytes that are not a tar archive',
      () =>
        post(
          batchJob({ source: { kind: 'tarball', base64: randomBytes(2048).toString('base64') } }),
        ),
      400,
      'snapshot_invalid',
    ],
    ['an unknown field', () => post(batchJob({ colour: 'blue' })), 400, 'invalid_request'],
    ['malformed JSON', () => http('POST', api('/v1/batches'), '{"source": '), 400, 'invalid_json'],
    [
      'a body that is not JSON',
      () => http('POST', api('/v1/batches'), 'source=x', { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    ],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const res = await send();
    expect({ status: res.status, code: res.body?.error?.code }, JSON.stringify(res.body)).toEqual({
      status,
      code,
    });
    expect(typeof res.body.error.message).toBe('string');
  });

  it('refuses a body over the 96 MiB batch limit with 413, naming that limit', async () => {
    const res = await postLargeBody('/v1/batches', 97 * 1024 * 1024);
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({
      status: 413,
      code: 'payload_too_large',
    });
    expect(res.body.error.details).toEqual({ limit: 96 * 1024 * 1024 });
  });

  it('leaves nothing staged behind a refused tarball', async () => {
    const res = await post(
      batchJob({
        source: tarballSource([
          ...batchProject,
          { type: 'file', path: '../evil.ts', content: 'x' },
        ]),
      }),
    );
    expect(res.status).toBe(400);
    const staging = join(stack.dataDir, 'batch-staging');
    expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);
  });
});

describe('a valid batch', () => {
  it('answers 201 with its targets, and GET returns the same batch', async () => {
    const res = await post(
      batchJob({ title: 'nightly', targets: { globs: ['src/**'], functions: true } }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const batch = res.body.batch;
    expect(batch.id).toMatch(/^bat_[A-Za-z0-9]{16}$/);
    expect(batch).toMatchObject({
      title: 'nightly',
      status: 'running',
      framework: 'vitest',
      testCommand: 'npx vitest run',
      concurrency: 'auto',
      progress: { total: 2, queued: 2, running: 0, done: 0 },
    });
    expect(
      batch.targets.map((t: { id: string; file: string; name?: string; status: string }) => [
        t.id,
        t.file,
        t.name,
        t.status,
      ]),
    ).toEqual([
      ['t0', 'src/math.ts', 'add', 'queued'],
      ['t1', 'src/text.ts', 'shout', 'queued'],
    ]);
    expect(batch.targets[0].testFile).toBe('src/math.add.test.ts');

    const got = await http('GET', api(`/v1/batches/${batch.id}`));
    expect(got.status).toBe(200);
    expect(got.body.targets).toEqual(batch.targets);
    expect(got.body.id).toBe(batch.id);

    // The snapshot is stored once under the batch id, and its staging folder is gone.
    expect(existsSync(join(stack.dataDir, 'blobs', 'sessions', batch.id, 'ws', 'base.json'))).toBe(
      true,
    );
    expect(existsSync(join(stack.dataDir, 'batch-staging', batch.id))).toBe(false);

    // Its flow is queued: a parent job, and one child per target's first attempt.
    const connection = { url: stack.redisUrl, maxRetriesPerRequest: null };
    const parents = new Queue(BATCH_QUEUE, { connection });
    const children = new Queue(BATCH_TARGET_QUEUE, { connection });
    try {
      const parent = await parents.getJob(batchJobId(batch.id, 1));
      expect(parent?.data).toEqual({ batchId: batch.id, flowNo: 1 });
      const jobs = await Promise.all(
        ['t0', 't1'].map((t) => children.getJob(batchTargetJobId(batch.id, t, 1))),
      );
      expect(jobs.map((j) => j?.data)).toEqual([
        { batchId: batch.id, targetId: 't0', attempt: 1 },
        { batchId: batch.id, targetId: 't1', attempt: 1 },
      ]);
    } finally {
      await Promise.all([parents.close(), children.close()]);
    }

    const listed = await http('GET', api('/v1/batches'));
    expect(listed.status).toBe(200);
    expect(listed.body.batches.map((b: { id: string }) => b.id)).toContain(batch.id);

    const unfinished = await http('GET', api(`/v1/batches/${batch.id}/targets/t0`));
    expect([unfinished.status, unfinished.body.error.code]).toEqual([404, 'target_not_finished']);
    const unknownTarget = await http('GET', api(`/v1/batches/${batch.id}/targets/t9`));
    expect([unknownTarget.status, unknownTarget.body.error.code]).toEqual([
      404,
      'batch_target_not_found',
    ]);
  });

  it('takes a server directory inside BATCH_ALLOWED_DIRS', async () => {
    const res = await post(
      batchJob({ source: { kind: 'directory', path: join(allowed, 'repo') } }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.batch.targets.map((t: { file: string }) => t.file)).toEqual([
      'src/math.ts',
      'src/text.ts',
    ]);
  });

  it('takes a body over the API-wide limit on this route only', async () => {
    // 2 MiB of incompressible content: more than MAX_BODY_BYTES once in base64.
    const big = randomBytes(2 * 1024 * 1024).toString('hex');
    const entries: TestTarEntry[] = [
      ...batchProject,
      { type: 'file', path: 'data/blob.txt', content: big },
    ];
    const res = await post(batchJob({ source: tarballSource(entries) }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const elsewhere = await http('POST', api('/v1/sessions'), { title: big });
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([413, 'payload_too_large']);
  });
});

describe("another user's batch", () => {
  let id: string;
  beforeAll(async () => {
    const res = await post(batchJob());
    expect(res.status).toBe(201);
    id = res.body.batch.id;
  });

  const asOther = (method: string, path: string, body?: unknown) =>
    http(method, api(path), body, { authorization: `Bearer ${otherToken}` });

  it.each([
    ['GET', ''],
    ['GET', '/targets/t0'],
    ['GET', '/report.patch'],
    ['GET', '/report.xml'],
    ['POST', '/cancel'],
    ['POST', '/retry'],
  ])(
    'answers %s %s with 404 batch_not_found, as a batch that does not exist',
    async (method, path) => {
      const theirs = await asOther(
        method,
        `/v1/batches/${id}${path}`,
        method === 'POST' ? {} : undefined,
      );
      expect([theirs.status, theirs.body?.error?.code]).toEqual([404, 'batch_not_found']);
      const none = await asOther(
        method,
        `/v1/batches/bat_0000000000000000${path}`,
        method === 'POST' ? {} : undefined,
      );
      expect([none.status, none.body?.error?.code]).toEqual([404, 'batch_not_found']);
      expect(theirs.body.error.message).toBe(
        none.body.error.message.replace('bat_0000000000000000', id),
      );
    },
  );

  it('is not listed for them, and only admins may list everyone', async () => {
    const theirs = await asOther('GET', '/v1/batches');
    expect(theirs.status).toBe(200);
    expect(theirs.body.batches.map((b: { id: string }) => b.id)).not.toContain(id);
    const all = await asOther('GET', '/v1/batches?all=true');
    expect([all.status, all.body.error.code]).toEqual([403, 'admin_only']);
  });

  it('answers a malformed batch id with 404', async () => {
    const res = await http('GET', api('/v1/batches/..%2Fetc'));
    expect([res.status, res.body.error.code]).toEqual([404, 'batch_not_found']);
  });
});

describe('the routes of one batch', () => {
  it('serves empty reports before any target finished, cancels, and refuses a bad retry body', async () => {
    const created = await post(batchJob());
    const id = created.body.batch.id;
    const patch = await fetch(api(`/v1/batches/${id}/report.patch`), {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    expect(patch.status).toBe(200);
    expect(patch.headers.get('content-type')).toContain('text/x-diff');
    expect(await patch.text()).toBe('');
    const junit = await http('GET', api(`/v1/batches/${id}/report.xml`));
    expect(junit.status).toBe(200);
    expect(junit.headers.get('content-type')).toContain('application/xml');
    expect(String(junit.body)).toContain('<testsuites');

    const badRetry = await http('POST', api(`/v1/batches/${id}/retry`), { statuses: ['nope'] });
    expect([badRetry.status, badRetry.body.error.code]).toEqual([400, 'invalid_request']);
    const badQuery = await http('GET', api(`/v1/batches/${id}/report.patch?statuses=nope`));
    expect([badQuery.status, badQuery.body.error.code]).toEqual([400, 'invalid_request']);

    const cancelled = await http('POST', api(`/v1/batches/${id}/cancel`));
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.batch).toMatchObject({ id, status: 'cancelling' });
    const retryWhileCancelling = await http('POST', api(`/v1/batches/${id}/retry`), {});
    expect([retryWhileCancelling.status, retryWhileCancelling.body.error.code]).toEqual([
      409,
      'batch_cancelling',
    ]);
  });
});
