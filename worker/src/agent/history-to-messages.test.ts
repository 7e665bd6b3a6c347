import type { LogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { historyToMessages } from './history-to-messages.ts';

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
});
