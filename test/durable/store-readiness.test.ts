import { blobStoreProbe } from '@tern/shared/http/dependency-checks';
import { CachedProbe, type ReadinessReport } from '@tern/shared/http/readiness';
import { S3BlobStore } from '@tern/shared/session/s3-blob-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { type Stack, startStack, workerOpsUrl } from '../helpers/stack.ts';

// /readyz of the api and of a worker follows the blob store (a real s3rver, stopped, restarted
// and made to hang) and Redis, going 503 with what is down and back to 200 on their own.

let s3: TestS3;
let gate: FaultProxy;
let stack: Stack;
let urls: Record<'api' | 'worker', string>;

beforeAll(async () => {
  s3 = await startS3();
  gate = await startFaultProxy(s3.port);
  stack = await startStack({
    workers: 1,
    env: {
      ...s3.env('readiness'),
      S3_ENDPOINT: gate.url,
      // Probed often so that the test sees changes soon; the timeout stays well above a loaded
      // machine's round trip to a local s3rver.
      READY_PROBE_INTERVAL_MS: '200',
      READY_PROBE_TIMEOUT_MS: '1500',
    },
  });
  const worker = stack.processes.find((p) => p.name === 'worker-1');
  if (!worker) throw new Error('no worker');
  urls = { api: `${stack.apiUrl}/readyz`, worker: `${workerOpsUrl(worker)}/readyz` };
});
afterAll(async () => {
  await stack?.stop();
  await gate?.close();
  await s3?.stop();
});

type Answer = { status: number; body: ReadinessReport };

async function readyz(url: string): Promise<Answer> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as ReadinessReport };
}

/** Asks both processes until each answers as `wanted` says; returns their last answers. */
async function until(wanted: (a: Answer) => boolean, what: string): Promise<Answer[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answers = await Promise.all([readyz(urls.api), readyz(urls.worker)]);
    if (answers.every(wanted)) return answers;
    if (Date.now() > deadline) {
      throw new Error(`never ${what}: ${JSON.stringify(answers)}\n${stack.logs('worker-1')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ready = (a: Answer) => a.status === 200;
const storeDown = (a: Answer) => a.status === 503 && a.body.down.includes('store');

describe('readiness of the api and a worker on an S3 store (real processes)', () => {
  it('is ready with Redis and the store up, and says so per dependency', async () => {
    for (const answer of await until(ready, 'ready')) {
      expect(answer.body.status).toBe('ready');
      expect(answer.body.checks.redis).toEqual({ status: 'up' });
      expect(answer.body.checks.store).toEqual({ status: 'up' });
    }
  });

  it('answers 503 naming the store while the S3 server is down, and 200 once it is back', async () => {
    await s3.kill();
    for (const answer of await until(storeDown, 'reported the store down')) {
      expect(answer.body).toMatchObject({
        status: 'unavailable',
        down: ['store'],
        checks: { redis: { status: 'up' }, store: { status: 'down', code: 'unavailable' } },
      });
    }
    await s3.start();
    for (const answer of await until(ready, 'ready again')) {
      expect(answer.body.checks.store).toEqual({ status: 'up' });
    }
  });

  it('answers 503 with a timeout, not a hung request, while the store accepts but never answers', async () => {
    gate.hang(true);
    const answers = await until(storeDown, 'reported the hung store down');
    for (const answer of answers) {
      expect(answer.body.checks.store).toEqual({
        status: 'down',
        code: 'timeout',
        message: 'no answer within 1500 ms',
      });
    }
    gate.hang(false);
    await until(ready, 'ready after the store answered again');
  });

  it('answers 503 naming Redis while Redis is down, and 200 once it is back', async () => {
    await stack.redis.kill();
    const answers = await until(
      (a) => a.status === 503 && a.body.down.includes('redis'),
      'reported Redis down',
    );
    for (const answer of answers) {
      expect(answer.body.checks.redis).toMatchObject({ status: 'down' });
      expect(answer.body.checks.store).toEqual({ status: 'up' });
    }
    await stack.redis.start();
    await until(ready, 'ready after Redis came back');
  });
});

describe('the S3 store probe', () => {
  it('reports a bucket that does not exist as down, by S3 error name, without retrying', async () => {
    const store = new S3BlobStore(s3.storeOptions('tern-no-such-bucket'));
    try {
      const probe = new CachedProbe(blobStoreProbe(store), { intervalMs: 0, timeoutMs: 5_000 });
      expect(await probe.check()).toEqual({
        status: 'down',
        code: 'unavailable',
        message: 'NoSuchBucket (status 404)',
      });
    } finally {
      store.destroy();
    }
  });
});
