import { redisKeys, segmentBlobKey } from '@tern/shared/session/session-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { type Stack, startStack, stopProcess, waitForLog } from '../helpers/stack.ts';

let s3: TestS3;
let stack: Stack;
let collector: Collector;

beforeAll(async () => {
  s3 = await startS3();
  stack = await startStack({ workers: 1, env: s3.env('stack') });
  collector = await connectCollector(stack.gatewayUrl);
});

afterAll(async () => {
  collector?.close();
  await stack?.stop();
  await s3?.stop();
});

const blobs = () => s3.openStore('stack');

async function turn(id: string, text: string): Promise<string> {
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text });
  expect(posted.status).toBe(202);
  return posted.body.turnId as string;
}

async function newSession(): Promise<string> {
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
    title: 'on s3',
    files: { 'README.md': 'stored in s3rver' },
  });
  expect(created.status).toBe(201);
  const id = created.body.session.id as string;
  await collector.subscribe(id);
  return id;
}

describe('Tern processes with BLOB_STORE=s3://', () => {
  it('runs turns whose log lives in S3', async () => {
    const id = await newSession();
    const turnId = await turn(id, 'Please read README.md');
    await collector.waitFor((all) => finishedTurns(all).includes(turnId));
    const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    expect(detail.status).toBe(200);
    const items = await stack.redis.client.lrange(redisKeys.segments(id), 0, -1);
    expect(items.length).toBeGreaterThan(1);
    for (const item of items) expect(await blobs().get(segmentBlobKey(id, item))).toBeDefined();
  });

  it('reports a corrupt segment with its session and key, and the worker keeps serving', async () => {
    const broken = await newSession();
    const first = await turn(broken, 'Please read README.md');
    await collector.waitFor((all) => finishedTurns(all).includes(first));
    const items = await stack.redis.client.lrange(redisKeys.segments(broken), 0, -1);
    const key = segmentBlobKey(broken, items[1]!);
    const bytes = Buffer.from((await blobs().get(key))!);
    const at = bytes.indexOf('"text":"') + 8;
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    await blobs().put(key, bytes);

    // The API reads the log for the session's detail: a clear error, not a crash or a short log.
    const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${broken}`);
    expect(detail.status).toBe(500);
    expect(JSON.stringify(detail.body)).toContain('corrupt_blob');

    // A worker that has not read the session yet (a warm one serves its verified cache) fails the
    // broken session's turn, and goes on with other sessions.
    await stopProcess(stack.processes.find((p) => p.name === 'worker-1')!.child);
    const worker = await stack.addWorker();
    await turn(broken, 'Again please');
    const healthy = await newSession();
    const next = await turn(healthy, 'Please read README.md');
    await collector.waitFor((all) => finishedTurns(all).includes(next));
    await waitForLog(worker, key, 20_000, stack.logs);
    expect(worker.child.exitCode).toBeNull();
  });
});
