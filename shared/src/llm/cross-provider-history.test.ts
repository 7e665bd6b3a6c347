import { describe, expect, it } from 'vitest';
import { prepareHistory } from './cross-provider-history.ts';
import type { LlmMessage } from './llm-types.ts';

const fromAnthropic: LlmMessage = {
  role: 'assistant',
  origin: 'anthropic:claude-sonnet-4',
  content: [
    { type: 'reasoning', text: 'thinking…', meta: { provider: 'anthropic', signature: 'sig' } },
    { type: 'text', text: 'Reading it.' },
    { type: 'tool_call', id: 'toolu_01', name: 'read_file', args: { path: 'a' } },
  ],
};

describe('prepareHistory', () => {
  it('returns the same array when nothing needs translating', () => {
    const history: LlmMessage[] = [
      { role: 'user', content: 'hi' },
      fromAnthropic,
      result('toolu_01'),
    ];
    expect(prepareHistory(history, 'anthropic')).toBe(history);
  });

  it('drops another provider’s reasoning and signatures', () => {
    const out = prepareHistory(
      [{ role: 'user', content: 'hi' }, fromAnthropic, result('toolu_01')],
      'gemini',
    );
    expect(out[1]).toEqual({
      role: 'assistant',
      origin: 'anthropic:claude-sonnet-4',
      content: [
        { type: 'text', text: 'Reading it.' },
        { type: 'tool_call', id: 'toolu_01', name: 'read_file', args: { path: 'a' } },
      ],
    });
  });

  it('rewrites tool-call ids the target refuses, in the call and its result alike', () => {
    const odd: LlmMessage = {
      role: 'assistant',
      origin: 'openai:gpt-4.1',
      content: [{ type: 'tool_call', id: 'call|with:odd.chars', name: 'x', args: {} }],
    };
    const out = prepareHistory(
      [{ role: 'user', content: 'go' }, odd, result('call|with:odd.chars')],
      'anthropic',
    );
    const call = (out[1] as Extract<LlmMessage, { role: 'assistant' }>).content[0];
    const id = call?.type === 'tool_call' ? call.id : '';
    expect(id).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(out[2]).toMatchObject({ role: 'tool', toolCallId: id });
  });

  it('answers a call left without a result and drops a result without a call', () => {
    const out = prepareHistory(
      [
        { role: 'user', content: 'go' },
        fromAnthropic,
        { role: 'user', content: 'next' },
        result('nobody-called-me'),
      ],
      'openai',
    );
    expect(out.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(out[2]).toMatchObject({ toolCallId: 'toolu_01', isError: true });
  });

  it('keeps a provider’s own signatures when the history returns to it', () => {
    const out = prepareHistory([{ role: 'user', content: 'hi' }, fromAnthropic], 'anthropic');
    const parts = (out[1] as Extract<LlmMessage, { role: 'assistant' }>).content;
    expect(parts[0]).toEqual(fromAnthropic.content[0]);
  });
});

function result(id: string): LlmMessage {
  return { role: 'tool', toolCallId: id, toolName: 'read_file', content: 'file body' };
}
