import type { LogEntry } from '@tern/shared/session/log-entry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { contradictions } from '../helpers/log-consistency.ts';
import { leaseHolder, startLongTurn } from '../helpers/long-turn.ts';
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
  const { id, turnId } = await startLongTurn(stack, collector, sim);
  return { id, turnId, runner: await leaseHolder(stack, id) };
}

/** On failure, what the workers logged: the turn's fate is in their logs, not in the events. */
async function withLogs(wait: () => Promise<void>): Promise<void> {
  try {
    await wait();
  } catch (error) {
    const logs = stack.processes
      .filter((p) => p.name.startsWith('worker'))
      .map((p) => `--- ${p.name}\n${stack.logs(p.name)}`);
    throw new Error(`${(error as Error).message.slice(0, 200)}\n${logs.join('\n')}`);
  }
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
    await withLogs(() => collector.waitFor((all) => finishedTurns(all).includes(turnId), 30_000));
    const mine = collector.envelopes.filter((e) => e.sessionId === id);
    expect(mine.some((e) => e.event.type === 'stream_discarded')).toBe(false);
    await stack.addWorker();
  }, 60_000);

  it('hands a longer turn back at once: another worker resumes it without waiting for the lease', async () => {
    const { id, turnId, runner } = await runningTurn({ itlMs: 25 });
    const stopped = performance.now();
    runner.child.kill('SIGTERM');
    expect(await exited(runner)).toBe(0);
    await withLogs(() =>
      collector.waitFor(
        (all) => all.some((e) => e.sessionId === id && e.event.type === 'stream_discarded'),
        30_000,
      ),
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
