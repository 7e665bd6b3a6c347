import type { SessionEvent } from '@tern/shared/protocol/events';
import { describe, expect, it } from 'vitest';
import type { AgentTool } from './agent-types.ts';
import { deferred, recordingTool, turnHarness } from './turn-harness.ts';

describe('cancel', () => {
  it('stops running tools and logs what finished and what was interrupted', async () => {
    const controller = new AbortController();
    const fastDone = deferred();
    let sawAbort = false;
    const fast: AgentTool = {
      spec: { name: 'fast', description: '', parameters: {} },
      idempotent: true,
      execute: async () => {
        fastDone.resolve();
        return { ok: true, output: 'fast result' };
      },
    };
    const stuck: AgentTool = {
      spec: { name: 'stuck', description: '', parameters: {} },
      idempotent: false,
      execute: async (_args, { signal }) => {
        await fastDone.promise;
        signal.addEventListener('abort', () => {
          sawAbort = true;
        });
        controller.abort();
        return new Promise(() => {});
      },
    };
    const h = turnHarness(
      [
        {
          calls: [
            { id: 'a', name: 'fast', args: {} },
            { id: 'b', name: 'stuck', args: {} },
          ],
        },
        { text: 'never' },
      ],
      [fast, stuck],
      { io: { signal: controller.signal } },
    );
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'aborted', state: 'cancelled' });
    expect(sawAbort).toBe(true);
    expect(h.kinds().slice(-2)).toEqual(['tool_finished', 'interrupted']);
    expect(h.finished()).toMatchObject([{ callId: 'a', ok: true, output: 'fast result' }]);
    const interrupted = h.log.at(-1);
    expect(interrupted).toMatchObject({ kind: 'interrupted', unfinished: ['b'] });
    expect(interrupted?.kind === 'interrupted' && interrupted.reason).toContain(
      'Finished: fast (a)',
    );
    expect(h.finals).toEqual([h.log.length]);
    expect(h.model.requests).toHaveLength(1);
    expect(h.states().at(-1)).toBe('running_tools>cancelled');
  });

  it('stops a streaming answer, discards it and logs the interruption', async () => {
    const controller = new AbortController();
    const events: SessionEvent[] = [];
    const h = turnHarness([{ text: 'a long partial answer', hang: true }], [], {
      io: {
        signal: controller.signal,
        emit: (e) => {
          events.push(e);
          if (e.type === 'text_delta') controller.abort();
        },
      },
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'aborted', state: 'cancelled' });
    expect(h.kinds()).toEqual(['user_message', 'interrupted']);
    expect(events.map((e) => e.type)).toContain('stream_discarded');
    expect(events.at(-1)).toMatchObject({ type: 'turn_finished', reason: 'aborted' });
    expect(h.finals).toEqual([2]);
  });

  it('cancels a turn paused for approval when it is resumed with an aborted signal', async () => {
    const bash = recordingTool('bash');
    const h = turnHarness(
      [{ calls: [{ id: 'b1', name: 'bash', args: { command: 'ls' } }] }],
      [bash.tool],
      { input: { approvals: { rules: [], default: 'ask' } } },
    );
    expect((await h.run()).reason).toBe('awaiting_approval');
    h.io.signal = AbortSignal.abort();
    const cancelled = await h.run();
    expect(cancelled).toMatchObject({ reason: 'aborted', state: 'cancelled' });
    expect(h.log.at(-1)).toMatchObject({ kind: 'interrupted', unfinished: ['b1'] });
    expect(bash.calls).toEqual([]);
  });
});
