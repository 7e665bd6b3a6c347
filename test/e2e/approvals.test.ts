import type { LogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { type Collector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { useStack } from '../helpers/use-stack.ts';

const env = useStack({ workers: 2 });

const paused = (turnId: string) => (all: Collector['envelopes']) =>
  all.some((e) => e.event.type === 'turn_paused' && e.event.turnId === turnId);

async function pausedSession() {
  const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, {
    files: { 'README.md': 'Approved contents\nmore' },
    approvals: { rules: [{ tool: 'read_file', action: 'ask', reason: 'reading needs a human' }] },
  });
  const id = created.body.session.id as string;
  await env.collector.subscribe(id, '0-0');
  const posted = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
    text: 'Please read README.md',
  });
  const turnId = posted.body.turnId as string;
  await env.collector.waitFor(paused(turnId));
  const detail = await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`);
  const request = (detail.body.entries as LogEntry[]).find((e) => e.kind === 'approval_requested');
  return {
    id,
    turnId,
    detail,
    callId: request?.kind === 'approval_requested' ? request.callId : '',
  };
}

describe('tool calls that need a human', () => {
  it('pause the turn until approved, then run on whichever worker resumes it', async () => {
    const { id, turnId, detail, callId } = await pausedSession();
    expect(detail.body.session.status).toBe('awaiting_approval');
    expect(detail.body.entries.map((e: LogEntry) => e.kind)).not.toContain('tool_started');
    expect(callId).not.toBe('');

    const decided = await http(
      'POST',
      `${env.stack.apiUrl}/v1/sessions/${id}/approvals/${callId}`,
      {
        approve: true,
      },
    );
    expect(decided).toMatchObject({ status: 202, body: { callId, decision: 'approve' } });
    await env.collector.waitFor((all) => finishedTurns(all).includes(turnId));

    const after = await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`);
    const entries = after.body.entries as LogEntry[];
    expect(entries.map((e) => e.kind)).toEqual([
      'user_message',
      'assistant_message',
      'approval_requested',
      'approval_decided',
      'tool_started',
      'tool_finished',
      'assistant_message',
    ]);
    expect(entries.at(-2)).toMatchObject({ kind: 'tool_finished', ok: true });
    expect(entries.at(-1)).toMatchObject({
      kind: 'assistant_message',
      text: expect.stringContaining('Approved contents'),
    });
    expect(after.body.session.status).toBe('idle');

    // Deciding again the same way is harmless; the other way is refused.
    const again = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/approvals/${callId}`, {
      approve: true,
    });
    expect(again.status).toBe(202);
    const flip = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/approvals/${callId}`, {
      approve: false,
    });
    expect(flip).toMatchObject({ status: 409, body: { error: { code: 'already_decided' } } });
  });

  it('give a denied call a result the model reads, and the turn goes on', async () => {
    const { id, turnId, callId } = await pausedSession();
    await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/approvals/${callId}`, {
      approve: false,
      reason: 'not today',
    });
    await env.collector.waitFor((all) => finishedTurns(all).includes(turnId));
    const after = await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`);
    const result = (after.body.entries as LogEntry[]).find((e) => e.kind === 'tool_finished');
    expect(result).toMatchObject({ ok: false, output: expect.stringContaining('not today') });
    expect(after.body.entries.some((e: LogEntry) => e.kind === 'tool_started')).toBe(false);
  });

  it('survive every worker restarting while the turn waits', async () => {
    const { id, turnId, callId } = await pausedSession();
    const workers = env.stack.processes.filter((p) => p.name.startsWith('worker'));
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(
      workers.map(
        (w) => new Promise((r) => (w.child.exitCode === null ? w.child.once('exit', r) : r(null))),
      ),
    );
    await env.stack.addWorker();
    await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/approvals/${callId}`, {
      approve: true,
    });
    await env.collector.waitFor((all) => finishedTurns(all).includes(turnId));
    const after = await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`);
    expect(after.body.entries.at(-1)).toMatchObject({
      kind: 'assistant_message',
      text: expect.stringContaining('Approved contents'),
    });
  });

  it('answer 404 for an unknown call and 400 for a malformed decision', async () => {
    const { id } = await pausedSession();
    const missing = await http(
      'POST',
      `${env.stack.apiUrl}/v1/sessions/${id}/approvals/call_nope`,
      {
        approve: true,
      },
    );
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'approval_not_found' } } });
    const bad = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/approvals/call_nope`, {
      approve: 'yes',
    });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });
});
