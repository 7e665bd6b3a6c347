import type { LogEntry, NewLogEntry } from './log-entry.ts';
import { type Lease, type SessionStore, turnIdFor } from './session-store.ts';

/** For tests: a user message and the model's answer, the smallest complete turn. */
export function turn(text: string): NewLogEntry[] {
  return [
    { kind: 'user_message', text, inputSeq: 0 },
    {
      kind: 'assistant_message',
      model: 'openai:tern-sim',
      text: `echo: ${text}`,
      reasoning: '',
      toolCalls: [],
      finishReason: 'stop',
      usage: { input: 1, output: 1, cached: 0, reasoning: 0, costUsd: 0 },
    },
  ];
}

/**
 * For tests: appends each turn to a session as a real worker would (input, lease, commits), with
 * `stepsPerSegment` entries per committed segment so tests can place a fork inside a segment.
 */
export async function writeTurns(
  store: SessionStore,
  id: string,
  turns: NewLogEntry[][],
  stepsPerSegment = 1,
): Promise<LogEntry[]> {
  const lease = (await store.acquireLease(id, 'test-worker', 60_000)) as Lease;
  let lastSeq = (await store.meta(id))?.lastSeq ?? 0;
  const written: LogEntry[] = [];
  for (const entries of turns) {
    const appended = await store.appendInput(id, 'input', undefined);
    const inputSeq = appended?.inputSeq ?? 0;
    const stamped = entries.map(
      (e, i) =>
        ({
          ...e,
          ...(e.kind === 'user_message' ? { inputSeq } : {}),
          seq: lastSeq + i + 1,
          turnId: turnIdFor(id, inputSeq),
          epoch: lease.epoch,
          at: 1_000 + lastSeq + i,
        }) as LogEntry,
    );
    for (let i = 0; i < stamped.length; i += stepsPerSegment) {
      const step = stamped.slice(i, i + stepsPerSegment);
      const final = i + stepsPerSegment >= stamped.length;
      const result = await store.commit(lease, lastSeq, step, final ? inputSeq : undefined);
      if (result !== 'committed') throw new Error(`commit failed: ${result}`);
      lastSeq += step.length;
    }
    written.push(...stamped);
  }
  await store.releaseLease(lease);
  return written;
}
