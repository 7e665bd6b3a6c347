import type { LogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { useStack } from '../helpers/use-stack.ts';

const env = useStack({});

async function session(body: Record<string, unknown>): Promise<string> {
  const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, body);
  expect(created.status).toBe(201);
  const id = created.body.session.id as string;
  await env.collector.subscribe(id, '0-0');
  return id;
}

const send = (id: string, text: string, extra: Record<string, unknown> = {}) =>
  http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, { text, ...extra });

const streaming = (id: string, turnId: string) =>
  env.collector.waitFor((all) =>
    all.some(
      (e) => e.sessionId === id && e.event.type === 'text_delta' && e.event.turnId === turnId,
    ),
  );

const entriesOf = async (id: string) =>
  (await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`)).body.entries as LogEntry[];

describe('double-texting: a message sent while the session is busy', () => {
  it('reject: answers 409 session_busy while a turn runs, and accepts again once it is done', async () => {
    const id = await session({ doubleTexting: 'reject', sim: { itlMs: 30 } });
    expect((await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`)).body.session).toMatchObject(
      { doubleTexting: 'reject' },
    );
    const first = await send(id, 'Give me a long answer please', { clientMessageId: 'm1' });
    expect(first.status).toBe(202);
    const busy = await send(id, 'are you there?');
    expect(busy).toMatchObject({ status: 409, body: { error: { code: 'session_busy' } } });
    // A retry of the accepted message is still the same turn, not a refusal.
    const retried = await send(id, 'Give me a long answer please', { clientMessageId: 'm1' });
    expect(retried).toMatchObject({
      status: 202,
      body: { turnId: first.body.turnId, duplicate: true },
    });
    // The message may choose another policy for itself.
    const queued = await send(id, 'then this', { mode: 'enqueue' });
    expect(queued.status).toBe(202);
    await env.collector.waitFor((all) => finishedTurns(all).includes(queued.body.turnId), 60_000);
    const again = await send(id, 'now?');
    expect(again.status).toBe(202);
    await env.collector.waitFor((all) => finishedTurns(all).includes(again.body.turnId), 30_000);
    const users = (await entriesOf(id)).filter((e) => e.kind === 'user_message');
    expect(users.map((u) => u.kind === 'user_message' && u.text)).toEqual([
      'Give me a long answer please',
      'then this',
      'now?',
    ]);
  }, 90_000);

  it('interrupt: cancels the running turn and answers the new message right after', async () => {
    // 300 words at 0.3 s each: only the interruption lets the first turn end within the test.
    const id = await session({ doubleTexting: 'interrupt', sim: { itlMs: 300 } });
    const first = await send(id, 'Give me a long answer please');
    await streaming(id, first.body.turnId);
    const sent = performance.now();
    const second = await send(id, 'hello');
    expect(second.status).toBe(202);
    await env.collector.waitFor((all) => finishedTurns(all).includes(first.body.turnId), 10_000);
    const firstEnded = performance.now() - sent;
    const finished = env.collector.envelopes.find(
      (e) => e.event.type === 'turn_finished' && e.event.turnId === first.body.turnId,
    );
    expect(finished?.event).toMatchObject({ reason: 'aborted' });
    await env.collector.waitFor((all) => finishedTurns(all).includes(second.body.turnId), 30_000);
    const log = await entriesOf(id);
    const kinds = log.map((e) => `${e.kind}:${e.turnId === first.body.turnId ? 1 : 2}`);
    expect(kinds[0]).toBe('user_message:1');
    expect(kinds).toContain('interrupted:1');
    expect(kinds.slice(-2)).toEqual(['user_message:2', 'assistant_message:2']);
    console.info(`interrupt: the running turn ended ${firstEnded.toFixed(0)} ms after the message`);
  }, 60_000);

  it('enqueue (the default): the new message is answered after the running turn', async () => {
    const id = await session({ sim: { itlMs: 20 } });
    const first = await send(id, 'Give me a long answer please');
    await streaming(id, first.body.turnId);
    const second = await send(id, 'hello');
    await env.collector.waitFor((all) => finishedTurns(all).includes(second.body.turnId), 60_000);
    const order = env.collector.envelopes
      .filter((e) => e.sessionId === id && ['turn_started', 'turn_finished'].includes(e.event.type))
      .map(
        (e) =>
          `${e.event.type}:${(e.event as { turnId: string }).turnId === first.body.turnId ? 1 : 2}`,
      );
    expect(order).toEqual([
      'turn_started:1',
      'turn_finished:1',
      'turn_started:2',
      'turn_finished:2',
    ]);
  }, 90_000);

  it('steer as the session policy: delivered to the running turn', async () => {
    const id = await session({
      doubleTexting: 'steer',
      sim: { ttftMs: 400 },
      files: { 'a.md': 'x' },
    });
    const first = await send(id, 'Please read a.md');
    await env.collector.waitFor((all) =>
      all.some((e) => e.event.type === 'turn_started' && e.event.turnId === first.body.turnId),
    );
    const steered = await send(id, 'also say hi');
    expect(steered).toMatchObject({
      status: 202,
      body: { turnId: first.body.turnId, steered: true },
    });
    await env.collector.waitFor((all) => finishedTurns(all).includes(first.body.turnId), 30_000);
  }, 60_000);

  it('changes with PATCH, and refuses unknown policies', async () => {
    const id = await session({});
    const patched = await http('PATCH', `${env.stack.apiUrl}/v1/sessions/${id}`, {
      doubleTexting: 'reject',
    });
    expect(patched).toMatchObject({ status: 200, body: { session: { doubleTexting: 'reject' } } });
    const bad = await http('PATCH', `${env.stack.apiUrl}/v1/sessions/${id}`, {
      doubleTexting: 'shout',
    });
    expect(bad.status).toBe(400);
    expect((await send(id, 'x', { mode: 'later' })).status).toBe(400);
    expect(
      (await http('POST', `${env.stack.apiUrl}/v1/sessions`, { doubleTexting: 1 })).status,
    ).toBe(400);
  });
});
