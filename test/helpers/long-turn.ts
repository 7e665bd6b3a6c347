import type { LogEntry } from '@tern/shared/session/log-entry';
import { type Collector, finishedTurns } from './event-collector.ts';
import { http } from './http.ts';
import type { Stack, StackProcess } from './stack.ts';

/**
 * Starts a turn whose answer streams for a while (the simulator's long answer, paced by `sim`)
 * in a new session, and resolves once its first token reached the collector.
 */
export async function startLongTurn(
  stack: Stack,
  collector: Collector,
  sim: { itlMs?: number; ttftMs?: number } = { itlMs: 15 },
): Promise<{ id: string; turnId: string }> {
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, { sim });
  const id = created.body.session.id as string;
  await collector.subscribe(id, '0-0');
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, {
    text: 'Give me a long answer please',
  });
  await collector.waitFor((all) =>
    all.some((e) => e.sessionId === id && e.event.type === 'text_delta'),
  );
  return { id, turnId: posted.body.turnId as string };
}

/** The live worker process holding the session's lease (`<host>-<pid>-<random>:<epoch>`). */
export async function leaseHolder(stack: Stack, sessionId: string): Promise<StackProcess> {
  const holder = await stack.redis.client.get(`tern:{${sessionId}}:lease`);
  const found = stack.processes.find(
    (p) => p.child.exitCode === null && holder?.includes(`-${p.child.pid}-`),
  );
  if (!found) throw new Error(`no live worker holds the lease ${holder}`);
  return found;
}

/**
 * Sends one more message once a disrupted turn is over, waits for its answer, and returns the
 * session's log: the proof that the session is served normally afterwards.
 */
export async function followUpAndLog(
  stack: Stack,
  collector: Collector,
  sessionId: string,
): Promise<LogEntry[]> {
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${sessionId}/messages`, {
    text: 'hello again',
  });
  if (posted.status !== 202) throw new Error(`follow-up answered ${posted.status}`);
  await collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId), 30_000);
  return (await http('GET', `${stack.apiUrl}/v1/sessions/${sessionId}`)).body.entries as LogEntry[];
}
