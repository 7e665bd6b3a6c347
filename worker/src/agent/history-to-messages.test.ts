import type { LogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { historyToMessages, PromptBuilder, SUMMARY_PREFIX } from './history-to-messages.ts';

const base = { turnId: 't', epoch: 1, at: 0 };
const usage = { input: 0, output: 0, cached: 0, reasoning: 0, costUsd: 0 };

describe('historyToMessages', () => {
  it('gives an unanswered tool call a synthetic result and skips failed answers', () => {
    const log: LogEntry[] = [
      { ...base, seq: 1, kind: 'user_message', text: 'hi', inputSeq: 1 },
      {
        ...base,
        seq: 2,
        kind: 'assistant_message',
        model: 'm',
        text: '',
        reasoning: '',
        toolCalls: [{ id: 'c1', name: 'read_file', args: { path: 'a' } }],
        finishReason: 'tool_calls',
        usage,
      },
      {
        ...base,
        seq: 3,
        kind: 'tool_started',
        callId: 'c1',
        name: 'read_file',
        args: { path: 'a' },
      },
      {
        ...base,
        seq: 4,
        kind: 'assistant_message',
        model: 'm',
        text: 'half',
        reasoning: '',
        toolCalls: [],
        finishReason: 'error',
        usage,
      },
      { ...base, seq: 5, kind: 'user_message', text: 'again', inputSeq: 2 },
    ];
    expect(historyToMessages('', log)).toEqual([
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: [{ type: 'tool_call', id: 'c1', name: 'read_file', args: { path: 'a' } }],
        origin: 'm',
      },
      {
        role: 'tool',
        toolCallId: 'c1',
        toolName: 'read_file',
        content: 'No result: the tool call was interrupted before it finished.',
        isError: true,
      },
      { role: 'user', content: 'again' },
    ]);
  });

  const answer = (seq: number, calls: string[], text = ''): LogEntry => ({
    ...base,
    seq,
    kind: 'assistant_message',
    model: 'm',
    text,
    reasoning: '',
    toolCalls: calls.map((id) => ({ id, name: 'tool', args: {} })),
    finishReason: calls.length > 0 ? 'tool_calls' : 'stop',
    usage,
  });
  const result = (seq: number, callId: string): LogEntry => ({
    ...base,
    seq,
    kind: 'tool_finished',
    callId,
    name: 'tool',
    ok: true,
    output: `out ${callId}`,
    durationMs: 0,
  });
  const user = (seq: number, text: string): LogEntry => ({
    ...base,
    seq,
    kind: 'user_message',
    text,
    inputSeq: seq,
  });

  it('feeds tool results back in the order of the calls, whatever order they finished in', () => {
    const log = [user(1, 'q'), answer(2, ['a', 'b']), result(3, 'b'), result(4, 'a')];
    const tools = historyToMessages('', log).filter((m) => m.role === 'tool');
    expect(tools.map((m) => m.toolCallId)).toEqual(['a', 'b']);
  });

  it('starts from the latest compaction’s summary and the entries after its range', () => {
    const log: LogEntry[] = [
      user(1, 'first'),
      answer(2, [], 'one'),
      user(3, 'second'),
      answer(4, [], 'two'),
      user(5, 'third'),
      { ...base, seq: 6, kind: 'compaction', summary: 'S1', fromSeq: 1, toSeq: 2 },
      answer(7, [], 'three'),
      { ...base, seq: 8, kind: 'compaction', summary: 'S2', fromSeq: 1, toSeq: 4 },
      user(9, 'fourth'),
    ];
    expect(historyToMessages('sys', log)).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: `${SUMMARY_PREFIX}\n\nS2` },
      { role: 'user', content: 'third' },
      { role: 'assistant', content: [{ type: 'text', text: 'three' }], origin: 'm' },
      { role: 'user', content: 'fourth' },
    ]);
  });

  it('translates a growing log incrementally to the same messages as a one-off translation', () => {
    const log: LogEntry[] = [];
    const builder = new PromptBuilder('sys');
    const grow: LogEntry[] = [
      user(1, 'q'),
      answer(2, ['a', 'b']),
      result(3, 'a'),
      result(4, 'b'),
      answer(5, ['c']),
      { ...base, seq: 6, kind: 'compaction', summary: 'S', fromSeq: 1, toSeq: 4 },
      result(7, 'c'),
      user(8, 'steer'),
      answer(9, [], 'done'),
    ];
    for (const entry of grow) {
      log.push(entry);
      expect(builder.build(log)).toEqual(historyToMessages('sys', log));
    }
    // A returned array is the caller's: later steps do not change it.
    const before = builder.build(log);
    const copy = structuredClone(before);
    log.push(user(10, 'more'));
    builder.build(log);
    expect(before).toEqual(copy);
  });
});
