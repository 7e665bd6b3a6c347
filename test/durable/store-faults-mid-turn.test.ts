import type { LogEntry } from '@tern/shared/session/log-entry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { http } from '../helpers/http.ts';
import { contradictions } from '../helpers/log-consistency.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/** A turn of three steps: two tool batches that each commit, then a streamed answer. */
const SCENARIO = {
  steps: [
    {
      text: 'Writing the plan.',
      toolCalls: [{ name: 'write_file', arguments: { path: 'plan.md', content: 'step one' } }],
    },
    { toolCalls: [{ name: 'read_file', arguments: { path: 'plan.md' } }] },
    {
      text: 'The plan is written and reads step one; every step of it was committed once and only once.',
      finish: 'stop',
    },
  ],
};

let s3: TestS3;
let proxy: FaultProxy;
let stack: Stack;
let collector: Collector;

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startFaultProxy(s3.port);
  // A short retry budget would fail commits during the outage; the default rides it out.
  stack = await startStack({ workers: 1, env: { ...s3.env('faults'), S3_ENDPOINT: proxy.url } });
  collector = await connectCollector(stack.gatewayUrl);
  const installed = await http('PUT', `${stack.simUrl}/sim/scenarios/faults`, SCENARIO);
  expect(installed.status).toBe(200);
});
afterAll(async () => {
  collector?.close();
  await stack?.stop();
  await proxy?.close();
  await s3?.stop();
});

/** Starts a scripted turn; resolves once its first tool batch is running. */
async function startTurn(): Promise<{ id: string; turnId: string }> {
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
    sim: { scenario: 'faults', itlMs: 20 },
  });
  const id = created.body.session.id as string;
  await collector.subscribe(id, '0-0');
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, {
    text: 'Write the plan',
  });
  const turnId = posted.body.turnId as string;
  await collector.waitFor((all) =>
    all.some(
      (e) =>
        e.sessionId === id && e.event.type === 'entry' && e.event.entry.kind === 'tool_started',
    ),
  );
  return { id, turnId };
}

async function finishedLog(id: string, turnId: string): Promise<LogEntry[]> {
  await collector.waitFor((all) => finishedTurns(all).includes(turnId), 90_000);
  const log = (await http('GET', `${stack.apiUrl}/v1/sessions/${id}`)).body.entries as LogEntry[];
  expect(contradictions(id, collector.envelopes, log)).toEqual([]);
  expect(finishedTurns(collector.envelopes).filter((t) => t === turnId)).toHaveLength(1);
  return log;
}

const shape = (log: LogEntry[]) =>
  log.map((e) =>
    e.kind === 'tool_finished'
      ? `${e.kind}:${e.name}:${e.ok}:${e.notRun ?? ''}`
      : e.kind === 'assistant_message'
        ? `${e.kind}:${e.text}`
        : e.kind,
  );

describe('store faults during full turns (S3 store, real processes)', () => {
  let reference: string[];

  it('runs the turn without faults, as the reference', async () => {
    const { id, turnId } = await startTurn();
    reference = shape(await finishedLog(id, turnId));
    expect(reference).toEqual([
      'user_message',
      'assistant_message:Writing the plan.',
      'tool_started',
      'tool_finished:write_file:true:',
      'assistant_message:',
      'tool_started',
      'tool_finished:read_file:true:',
      `assistant_message:${SCENARIO.steps[2]?.text}`,
    ]);
  }, 60_000);

  it('holds the turn while the S3 server is down and finishes it once it is back', async () => {
    const { id, turnId } = await startTurn();
    await s3.kill();
    await new Promise((r) => setTimeout(r, 2_000));
    await s3.start();
    expect(shape(await finishedLog(id, turnId))).toEqual(reference);
  }, 120_000);

  it('rides out S3 answering 500 InternalError and 503 SlowDown during commits', async () => {
    const before = proxy.faulted;
    proxy.failNext(4, 'internal');
    const { id, turnId } = await startTurn();
    proxy.failNext(4, 'slowdown');
    expect(shape(await finishedLog(id, turnId))).toEqual(reference);
    expect(proxy.faulted - before).toBe(8);
  }, 120_000);

  it('finishes a turn across a Redis restart (AOF), losing no committed step', async () => {
    const { id, turnId } = await startTurn();
    await stack.redis.restart();
    expect(shape(await finishedLog(id, turnId))).toEqual(reference);
  }, 120_000);
});
