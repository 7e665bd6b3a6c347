import type { LogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { useStack } from '../helpers/use-stack.ts';

const env = useStack({});

describe('messages sent during a turn', () => {
  it('steer: reach the running turn at its next step boundary', async () => {
    // The tool-call step streams slowly, so the steering message arrives while it runs.
    const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, {
      files: { 'README.md': 'Steering notes' },
      sim: { ttftMs: 400 },
    });
    const id = created.body.session.id as string;
    await env.collector.subscribe(id, '0-0');
    const first = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'Please read README.md',
    });
    await env.collector.waitFor((all) =>
      all.some((e) => e.event.type === 'turn_started' && e.event.turnId === first.body.turnId),
    );
    const steer = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'also mention the weather',
      mode: 'steer',
    });
    expect(steer).toMatchObject({
      status: 202,
      body: { turnId: first.body.turnId, steered: true },
    });
    await env.collector.waitFor((all) => finishedTurns(all).includes(first.body.turnId));
    const detail = await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`);
    const entries = detail.body.entries as LogEntry[];
    const users = entries.filter((e) => e.kind === 'user_message');
    expect(users.map((u) => u.text)).toEqual(['Please read README.md', 'also mention the weather']);
    // Delivered inside the same turn, after the tool results and before the next model call.
    expect(users.every((u) => u.turnId === first.body.turnId)).toBe(true);
    const kinds = entries.map((e) => e.kind);
    expect(kinds.indexOf('tool_finished')).toBeLessThan(kinds.lastIndexOf('user_message'));
    expect(kinds.lastIndexOf('user_message')).toBeLessThan(kinds.lastIndexOf('assistant_message'));
    expect(detail.body.session).toMatchObject({ status: 'idle', inputs: 1 });
  });

  it('follow-up (the default): answered after the running turn, as a turn of its own', async () => {
    const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, { sim: { ttftMs: 200 } });
    const id = created.body.session.id as string;
    await env.collector.subscribe(id, '0-0');
    const first = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'one',
    });
    const second = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'two',
    });
    expect(second.body).toMatchObject({ steered: false, inputSeq: 2 });
    await env.collector.waitFor((all) => finishedTurns(all).includes(second.body.turnId));
    const detail = await http('GET', `${env.stack.apiUrl}/v1/sessions/${id}`);
    const answers = (detail.body.entries as LogEntry[]).filter(
      (e) => e.kind === 'assistant_message',
    );
    expect(answers.map((a) => a.turnId)).toEqual([first.body.turnId, second.body.turnId]);
  });

  it('steer with no turn running: queued like any message', async () => {
    const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, {});
    const id = created.body.session.id as string;
    await env.collector.subscribe(id, '0-0');
    const posted = await http('POST', `${env.stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'hello',
      mode: 'steer',
    });
    expect(posted.body).toMatchObject({ steered: false, inputSeq: 1 });
    await env.collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId));
  });
});
