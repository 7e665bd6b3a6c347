import { describe, expect, it } from 'vitest';
import type { LlmRequest } from '../llm-types.ts';
import { toAnthropicBody } from './anthropic-messages.ts';

const request = (extra: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'claude-sonnet-4-5',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

const readFile = {
  name: 'read_file',
  description: 'Reads a file',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

describe('toAnthropicBody', () => {
  it('asks for 4096 tokens when the request names no budget, and streams', () => {
    expect(toAnthropicBody(request())).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      stream: true,
    });
  });

  it('hoists system messages to the top-level field', () => {
    const body = toAnthropicBody(
      request({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'system', content: 'Use metric units.' },
          { role: 'user', content: 'hi' },
        ],
      }),
    );
    expect(body.system).toBe('Be brief.\n\nUse metric units.');
    expect(body.messages).toHaveLength(1);
  });

  it('puts consecutive tool results in one user turn, before the next user text', () => {
    const body = toAnthropicBody(
      request({
        tools: [readFile],
        messages: [
          { role: 'user', content: 'read a and b' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Reading both.' },
              { type: 'tool_call', id: 'toolu_a', name: 'read_file', args: { path: 'a' } },
              { type: 'tool_call', id: 'toolu_b', name: 'read_file', args: { path: 'b' } },
            ],
          },
          { role: 'tool', toolCallId: 'toolu_a', toolName: 'read_file', content: 'A' },
          {
            role: 'tool',
            toolCallId: 'toolu_b',
            toolName: 'read_file',
            content: 'no such file',
            isError: true,
          },
          { role: 'user', content: 'thanks' },
        ],
      }),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'read a and b' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Reading both.' },
          { type: 'tool_use', id: 'toolu_a', name: 'read_file', input: { path: 'a' } },
          { type: 'tool_use', id: 'toolu_b', name: 'read_file', input: { path: 'b' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: 'A' },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: 'no such file', is_error: true },
          { type: 'text', text: 'thanks' },
        ],
      },
    ]);
  });

  it('replays thinking only with an Anthropic signature', () => {
    const body = toAnthropicBody(
      request({
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: [
              {
                type: 'reasoning',
                text: 'mine',
                meta: { provider: 'anthropic', signature: 'sig' },
              },
              { type: 'reasoning', text: 'unsigned' },
              { type: 'reasoning', text: 'foreign', meta: { provider: 'gemini', signature: 'g' } },
              { type: 'text', text: 'answer' },
            ],
          },
          { role: 'user', content: 'more' },
        ],
      }),
    );
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'mine', signature: 'sig' },
        { type: 'text', text: 'answer' },
      ],
    });
  });

  it('drops an assistant turn left empty, and empty text blocks', () => {
    const body = toAnthropicBody(
      request({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'text', text: '' }] },
          { role: 'user', content: 'b' },
        ],
      }),
    );
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
    ]);
  });

  it('maps tools and every tool choice', () => {
    const choice = (toolChoice: LlmRequest['toolChoice']) =>
      toAnthropicBody(request({ tools: [readFile], toolChoice })).tool_choice;
    expect(toAnthropicBody(request({ tools: [readFile] })).tools).toEqual([
      { name: 'read_file', description: 'Reads a file', input_schema: readFile.parameters },
    ]);
    expect(choice('auto')).toEqual({ type: 'auto' });
    expect(choice('none')).toEqual({ type: 'none' });
    expect(choice('required')).toEqual({ type: 'any' });
    expect(choice({ name: 'read_file' })).toEqual({ type: 'tool', name: 'read_file' });
    expect(toAnthropicBody(request({ toolChoice: 'required' })).tool_choice).toBeUndefined();
  });

  it('maps reasoning effort to a thinking budget that max_tokens exceeds', () => {
    const low = toAnthropicBody(request({ reasoningEffort: 'low' }));
    expect(low.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(low.max_tokens).toBe(4096);
    const high = toAnthropicBody(request({ reasoningEffort: 'high', maxTokens: 8000 }));
    expect(high.thinking).toEqual({ type: 'enabled', budget_tokens: 16_384 });
    expect(high.max_tokens).toBe(16_384 + 8000);
    const roomy = toAnthropicBody(request({ reasoningEffort: 'medium', maxTokens: 32_000 }));
    expect(roomy.max_tokens).toBe(32_000);
  });

  it('does not think when the tool choice forces a tool, which the API refuses', () => {
    const body = toAnthropicBody(
      request({ reasoningEffort: 'high', tools: [readFile], toolChoice: 'required' }),
    );
    expect(body.thinking).toBeUndefined();
    expect(body.max_tokens).toBe(4096);
  });

  it('sends stop sequences, and no temperature (the SDK has no such field any more)', () => {
    const body = toAnthropicBody(request({ stop: ['END'], temperature: 0.2 }));
    expect(body.stop_sequences).toEqual(['END']);
    expect(body).not.toHaveProperty('temperature');
  });
});
