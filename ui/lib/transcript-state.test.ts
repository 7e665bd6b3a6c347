import type { SessionDetail } from '@tern/shared/protocol/api';
import type { EventEnvelope, SessionEvent } from '@tern/shared/protocol/events';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { compareEventIds } from './event-id';
import {
  type AssistantItem,
  emptyTranscript,
  type ToolItem,
  type TranscriptAction,
  type TranscriptState,
  transcriptReducer,
} from './transcript-state';

const SESSION = 'ses_abcdefgh12';
const usage = { input: 10, output: 5, cached: 0, reasoning: 0, costUsd: 0 };

function detail(entries: LogEntry[] = [], lastEventId = '100-0'): SessionDetail {
  return {
    session: {
      id: SESSION,
      title: 't',
      model: 'openai:sim',
      createdAt: 1,
      updatedAt: 1,
      status: 'idle',
      lastSeq: entries.length,
      inputs: 0,
      doubleTexting: 'enqueue',
    },
    entries,
    pending: [],
    lastEventId,
  };
}

let nextMs = 200;
function ev(event: SessionEvent, id = `${nextMs++}-0`): TranscriptAction {
  const envelope: EventEnvelope = { id, sessionId: SESSION, event };
  return { type: 'event', envelope };
}

function entry(seq: number, body: Record<string, unknown>): SessionEvent {
  return {
    type: 'entry',
    entry: { seq, turnId: 'turn_1', epoch: 1, at: 0, ...body } as LogEntry,
  };
}

function run(actions: TranscriptAction[], from?: TranscriptState): TranscriptState {
  const start =
    from ?? transcriptReducer(emptyTranscript(SESSION), { type: 'loaded', detail: detail() });
  return actions.reduce(transcriptReducer, start);
}

const assistantFinal = (seq: number, text: string, toolCalls: unknown[] = []) =>
  entry(seq, {
    kind: 'assistant_message',
    model: 'openai:sim',
    text,
    reasoning: '',
    toolCalls,
    finishReason: toolCalls.length ? 'tool_calls' : 'stop',
    usage,
  });

describe('transcriptReducer', () => {
  it('grows one live bubble from deltas and finalises it in place with the committed message', () => {
    const live = run([
      ev({ type: 'turn_started', turnId: 'turn_1', inputSeq: 1 }),
      ev({ type: 'text_delta', turnId: 'turn_1', text: 'Hel' }),
      ev({ type: 'text_delta', turnId: 'turn_1', text: 'lo' }),
    ]);
    const bubble = live.items[0] as AssistantItem;
    expect(live.items).toHaveLength(1);
    expect(bubble).toMatchObject({ kind: 'assistant', text: 'Hello', streaming: true });
    expect(live.session?.status).toBe('running');

    const done = run([ev(assistantFinal(1, 'Hello'))], live);
    expect(done.items).toHaveLength(1);
    expect(done.items[0]).toMatchObject({ key: bubble.key, text: 'Hello', streaming: false });
  });

  it('ignores envelopes it already applied, so a replay after reconnect shows nothing twice', () => {
    const delta = ev({ type: 'text_delta', turnId: 'turn_1', text: 'once' }, '300-1');
    const older = ev({ type: 'text_delta', turnId: 'turn_1', text: 'stale' }, '300-0');
    const state = run([delta, delta, older]);
    expect((state.items[0] as AssistantItem).text).toBe('once');
    expect(state.lastEventId).toBe('300-1');
  });

  it('ignores events at or before the transcript it loaded, and entries it already holds', () => {
    const loaded = transcriptReducer(emptyTranscript(SESSION), {
      type: 'loaded',
      detail: detail(
        [
          {
            seq: 1,
            turnId: 'turn_1',
            epoch: 1,
            at: 0,
            kind: 'user_message',
            text: 'hi',
            inputSeq: 1,
          },
        ],
        '500-0',
      ),
    });
    const state = run(
      [
        ev({ type: 'text_delta', turnId: 'turn_1', text: 'old' }, '499-9'),
        ev(entry(1, { kind: 'user_message', text: 'hi', inputSeq: 1 }), '500-1'),
      ],
      loaded,
    );
    expect(state.items.map((i) => i.kind)).toEqual(['user']);
  });

  it('orders event ids numerically, not as strings', () => {
    expect(compareEventIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareEventIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareEventIds('10-0', '10-0')).toBe(0);
  });

  it('takes a tool card from preparing to running to error, keeping its place', () => {
    const state = run([
      ev({
        type: 'tool_call_delta',
        turnId: 'turn_1',
        callId: 'c1',
        name: 'read_file',
        argsText: '{"pa',
      }),
      ev({
        type: 'tool_call_delta',
        turnId: 'turn_1',
        callId: 'c1',
        name: 'read_file',
        argsText: 'th":"x"}',
      }),
    ]);
    expect(state.items[0]).toMatchObject({ status: 'pending', argsText: '{"path":"x"}' });

    const finished = run(
      [
        ev(assistantFinal(1, '', [{ id: 'c1', name: 'read_file', args: { path: 'x' } }])),
        ev(
          entry(2, { kind: 'tool_started', callId: 'c1', name: 'read_file', args: { path: 'x' } }),
        ),
        ev(
          entry(3, {
            kind: 'tool_finished',
            callId: 'c1',
            name: 'read_file',
            ok: false,
            output: 'ENOENT',
            durationMs: 3,
          }),
        ),
      ],
      state,
    );
    // The tool-only assistant message adds no empty bubble.
    expect(finished.items).toHaveLength(1);
    expect(finished.items[0] as ToolItem).toMatchObject({
      kind: 'tool',
      status: 'error',
      args: { path: 'x' },
      output: 'ENOENT',
      durationMs: 3,
    });
  });

  it('shows an input as queued until its user message is committed, and never re-queues it', () => {
    const input = { inputSeq: 1, turnId: 'turn_1', text: 'hi', at: 0 };
    const queued = run([{ type: 'queued', input }]);
    expect(queued.pending).toEqual([input]);
    expect(queued.session?.status).toBe('queued');

    const started = run([ev(entry(1, { kind: 'user_message', text: 'hi', inputSeq: 1 }))], queued);
    expect(started.pending).toEqual([]);
    // A 202 that arrives after the event stream already showed the message changes nothing.
    expect(run([{ type: 'queued', input }], started).pending).toEqual([]);
  });

  it('closes a live bubble when the turn fails, and records the final state of the turn', () => {
    const state = run([
      ev({ type: 'text_delta', turnId: 'turn_1', text: 'partial' }),
      ev(entry(1, { kind: 'error', code: 'rate_limited', message: 'slow down' })),
      ev({ type: 'turn_finished', turnId: 'turn_1', reason: 'error', usage, steps: 1 }),
    ]);
    expect(state.items.map((i) => i.kind)).toEqual(['assistant', 'notice', 'turn_end']);
    expect(state.items[0]).toMatchObject({ streaming: false, text: 'partial' });
    expect(state.items[1]).toMatchObject({ tone: 'error', code: 'rate_limited' });
    expect(state.session?.status).toBe('idle');
  });

  it('ignores events of another session', () => {
    const state = run([
      {
        type: 'event',
        envelope: {
          id: '900-0',
          sessionId: 'ses_other000',
          event: { type: 'text_delta', turnId: 't', text: 'x' },
        },
      },
    ]);
    expect(state.items).toEqual([]);
  });
});
