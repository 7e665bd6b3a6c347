import type { LogEntry } from '@tern/shared/session/log-entry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { contradictions } from '../helpers/log-consistency.ts';
import { type Stack, type StackProcess, startStack } from '../helpers/stack.ts';

let stack: Stack;
let collector: Collector;

beforeAll(async () => {
  // A short grace period, so that a long turn is handed back rather than waited for.
  stack = await startStack({ workers: 2, env: { SHUTDOWN_GRACE_MS: '1000' } });
  collector = await connectCollector(stack.gatewayUrl);
});
afterAll(async () => {
  collector?.close();
  await stack?.stop();
});

async function runningTurn(sim: Record<string, number>) {
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, { sim });
  const id = created.body.session.id as string;
  await collector.subscribe(id, '0-0');
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, {
    text: 'Give me a long answer please',
  });
  const turnId = posted.body.turnId as string;
  await collector.waitFor((all) =>
    all.some((e) => e.sessionId === id && e.event.type === 'text_delta'),
  );
  const holder = await stack.redis.client.get(`tern:{${id}}:lease`);
  const runner = stack.processes.find(
    (p) => p.child.exitCode === null && holder?.includes(`-${p.child.pid}-`),
  );
  if (!runner) throw new Error(`no live worker holds ${holder}`);
  return { id, turnId, runner };
}

const exited = (p: StackProcess) =>
  new Promise<number | null>((resolve) => {
    if (p.child.exitCode !== null) resolve(p.child.exitCode);
    else p.child.once('exit', (code) => resolve(code));
  });

describe('a worker stopped with SIGTERM', () => {
  it('finishes a turn that ends within the grace period, then exits 0', async () => {
    const { id, turnId, runner } = await runningTurn({ itlMs: 1 });
    runner.child.kill('SIGTERM');
    expect(await exited(runner)).toBe(0);
    await collector.waitFor((all) => finishedTurns(all).includes(turnId), 30_000);
    const mine = collector.envelopes.filter((e) => e.sessionId === id);
    expect(mine.some((e) => e.event.type === 'stream_discarded')).toBe(false);
    await stack.addWorker();
  }, 60_000);

  it('hands a longer turn back at once: another worker resumes it without waiting for the lease', async () => {
    const { id, turnId, runner } = await runningTurn({ itlMs: 25 });
    const stopped = performance.now();
    runner.child.kill('SIGTERM');
    expect(await exited(runner)).toBe(0);
    await collector.waitFor(
      (all) => all.some((e) => e.sessionId === id && e.event.type === 'stream_discarded'),
      30_000,
    );
    const resumedAfter = performance.now() - stopped;
    await collector.waitFor((all) => finishedTurns(all).includes(turnId), 60_000);
    const log = (await http('GET', `${stack.apiUrl}/v1/sessions/${id}`)).body.entries as LogEntry[];
    expect(log.map((e) => e.kind)).toEqual(['user_message', 'assistant_message']);
    expect(log[1]?.kind === 'assistant_message' && log[1].finishReason).toBe('stop');
    expect(contradictions(id, collector.envelopes, log)).toEqual([]);
    expect(finishedTurns(collector.envelopes).filter((t) => t === turnId)).toHaveLength(1);
    console.info(`sigterm: resumed on another worker ${resumedAfter.toFixed(0)} ms after SIGTERM`);
  }, 90_000);
});
