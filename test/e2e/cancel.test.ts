import { describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { useStack } from '../helpers/use-stack.ts';

const env = useStack({});

describe('POST /v1/sessions/:id/cancel', () => {
  it('stops a streaming turn that would otherwise run for minutes', async () => {
    // 300 words at 2 s each: only a cancel can end this turn within the test's bounds.
    const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, { sim: { itlMs: 2000 } });
    const id = created.body.session.id as string;
    await env.collector.subscribe(id, '0-0');
    const posted = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'Give me a long answer please',
    });
    const turnId = posted.body.turnId as string;
    await env.collector.waitFor((all) =>
      all.some((e) => e.sessionId === id && e.event.type === 'text_delta'),
    );
    const cancelled = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/cancel`);
    expect(cancelled).toMatchObject({ status: 202, body: { turnId } });
    await env.collector.waitFor((all) => finishedTurns(all).includes(turnId), 5000);
    const finished = env.collector.envelopes.find(
      (e) => e.event.type === 'turn_finished' && e.event.turnId === turnId,
    );
    expect(finished?.event).toMatchObject({ reason: 'aborted' });
    const transcript = await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`);
    expect(transcript.body.session.status).toBe('idle');
    expect(['interrupted', 'error']).toContain(transcript.body.entries.at(-1).kind);
  });

  it('cancels a queued turn before it starts, and the next message runs normally', async () => {
    const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, { sim: { itlMs: 2000 } });
    const id = created.body.session.id as string;
    await env.collector.subscribe(id, '0-0');
    const first = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'Give me a long answer please',
    });
    const second = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'second',
    });
    await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/cancel`);
    await env.collector.waitFor((all) => finishedTurns(all).includes(first.body.turnId), 5000);
    // The second message still streams at 2 s a word: cancel it too once it starts.
    await env.collector.waitFor((all) =>
      all.some((e) => e.event.type === 'turn_started' && e.event.turnId === second.body.turnId),
    );
    const again = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/cancel`);
    expect(again.body.turnId).toBe(second.body.turnId);
    await env.collector.waitFor((all) => finishedTurns(all).includes(second.body.turnId), 5000);
  });

  it('answers 200 with no turn when nothing runs, and 404 for an unknown session', async () => {
    const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, {});
    const idle = await http(
      'POST',
      `${env.stack.apiUrl}/v1/sessions/${created.body.session.id}/cancel`,
    );
    expect(idle).toMatchObject({ status: 200, body: { turnId: null } });
    const missing = await http('POST', `${env.stack.apiUrl}/v1/sessions/ses_doesnotexist00/cancel`);
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'session_not_found' } } });
  });
});
