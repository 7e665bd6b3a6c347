import type { LogEntry, NewLogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { turnOutcome } from './turn-outcome.ts';

const usage = { input: 1, output: 1, cached: 0, reasoning: 0, costUsd: 0 };
const answer = (toolCalls: { id: string; name: string }[] = []): NewLogEntry => ({
  kind: 'assistant_message',
  model: 'openai-compatible:tern-sim',
  text: 'ok',
  reasoning: '',
  toolCalls: toolCalls.map((c) => ({ ...c, args: {} })),
  finishReason: toolCalls.length ? 'tool_calls' : 'stop',
  usage,
});

/** A log whose entries belong to `turnId`, after an earlier turn that ended cleanly. */
function log(turnId: string, entries: NewLogEntry[]): LogEntry[] {
  const earlier: NewLogEntry[] = [{ kind: 'user_message', text: 'before', inputSeq: 1 }, answer()];
  return [
    ...earlier.map((e, i) => ({ ...e, seq: i + 1, turnId: 'ses_x-t1', epoch: 1, at: i })),
    ...entries.map((e, i) => ({ ...e, seq: i + 3, turnId, epoch: 1, at: 10 + i })),
  ] as LogEntry[];
}

const T = 'ses_x-t2';
const opening: NewLogEntry = { kind: 'user_message', text: 'write tests', inputSeq: 2 };

describe('turnOutcome', () => {
  it('reads an answer without tool calls as done', () => {
    expect(
      turnOutcome(log(T, [opening, answer([{ id: 'c1', name: 'bash' }]), answer()]), T),
    ).toEqual({ kind: 'done' });
  });

  it.each(['max_steps', 'max_tokens_budget', 'max_cost', 'wall_time'])(
    'reads the %s stop as a budget',
    (code) => {
      const entries = log(T, [opening, answer(), { kind: 'error', code, message: 'out' }]);
      expect(turnOutcome(entries, T)).toEqual({ kind: 'budget', code, message: 'out' });
    },
  );

  it('reads other error entries as errors, with their code', () => {
    const entries = log(T, [
      opening,
      { kind: 'error', code: 'provider_unavailable', message: 'the model is down' },
    ]);
    expect(turnOutcome(entries, T)).toEqual({
      kind: 'error',
      code: 'provider_unavailable',
      message: 'the model is down',
    });
  });

  it('reads an interruption as a cancel and an open request as a wait for approval', () => {
    expect(turnOutcome(log(T, [opening, { kind: 'interrupted', reason: 'cancel' }]), T)).toEqual({
      kind: 'cancelled',
    });
    const asking = log(T, [
      opening,
      answer([{ id: 'c1', name: 'bash' }]),
      { kind: 'approval_requested', callId: 'c1', tool: 'bash', args: {}, reason: 'ask' },
    ]);
    expect(turnOutcome(asking, T)).toEqual({ kind: 'awaiting_approval' });
  });

  it('does not take an earlier turn’s end for this one’s', () => {
    expect(turnOutcome(log(T, []), T)).toEqual({ kind: 'unknown' });
    expect(turnOutcome(log(T, [opening, answer([{ id: 'c1', name: 'bash' }])]), T)).toEqual({
      kind: 'unknown',
    });
  });
});
