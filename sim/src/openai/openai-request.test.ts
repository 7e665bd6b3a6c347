import { describe, expect, it } from 'vitest';
import { parseChatRequest } from './openai-request.ts';

const parse = (body: unknown) => parseChatRequest(JSON.stringify(body));
const errorOf = (body: unknown) => {
  const result = parse(body);
  return result.ok ? undefined : result.error.error;
};

const callRead = {
  role: 'assistant',
  content: null,
  tool_calls: [
    {
      id: 'call_1',
      type: 'function',
      function: { name: 'read_file', arguments: '{"path":"a.md"}' },
    },
  ],
};

describe('parseChatRequest', () => {
  it('rejects a body that is not JSON with OpenAI’s message', () => {
    const result = parseChatRequest('{"model":');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.error).toMatchObject({
        type: 'invalid_request_error',
        param: null,
        code: null,
      });
      expect(result.error.error.message).toMatch(
        /^We could not parse the JSON body of your request/,
      );
    }
  });

  it('requires a model and a non-empty messages array', () => {
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }] })?.message).toBe(
      'you must provide a model parameter',
    );
    expect(errorOf({ model: 'm' })).toMatchObject({
      param: 'messages',
      code: 'missing_required_parameter',
    });
    expect(errorOf({ model: 'm', messages: 'hi' })).toMatchObject({
      param: 'messages',
      code: 'invalid_type',
    });
    expect(errorOf({ model: 'm', messages: [] })).toMatchObject({
      param: 'messages',
      code: 'empty_array',
    });
    expect(errorOf({ model: 'm', messages: [{ role: 'robot', content: 'x' }] })).toMatchObject({
      param: 'messages[0].role',
      code: 'invalid_value',
    });
  });

  it('rejects a max_tokens below 1', () => {
    expect(
      errorOf({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }),
    ).toMatchObject({
      param: 'max_tokens',
      code: 'integer_below_min_value',
    });
  });

  it('enforces that tool messages answer the preceding assistant tool calls, both ways', () => {
    expect(
      errorOf({ model: 'm', messages: [{ role: 'tool', tool_call_id: 'call_1', content: 'x' }] })
        ?.message,
    ).toMatch(/must be a response to a preceeding message with 'tool_calls'/);
    expect(
      errorOf({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }, callRead, { role: 'user', content: 'y' }],
      }),
    ).toMatchObject({
      param: 'messages.[1].role',
      message: expect.stringContaining('did not have response messages: call_1'),
    });
  });

  it('translates a conversation into the neutral model request, resolving tool results to their call', () => {
    const result = parse({
      model: 'tern-sim',
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 50,
      stop: 'END',
      tools: [{ type: 'function', function: { name: 'read_file' } }],
      messages: [
        { role: 'developer', content: 'rules' },
        { role: 'user', content: [{ type: 'text', text: 'read a.md' }] },
        callRead,
        { role: 'tool', tool_call_id: 'call_1', content: 'alpha' },
      ],
    });
    expect(result.ok && result.request).toEqual({
      model: 'tern-sim',
      stream: true,
      includeUsage: true,
      maxTokens: 50,
      stop: ['END'],
      // rules + read a.md + (read_file + its arguments) + alpha
      promptTokens: 2 + 4 + (3 + 11) + 2,
      reasoningEffort: undefined,
      autoToolChoice: true,
      modelRequest: {
        toolNames: ['read_file'],
        reasoning: false,
        messages: [
          { role: 'system', text: 'rules' },
          { role: 'user', text: 'read a.md' },
          { role: 'assistant', text: '' },
          { role: 'tool', text: 'alpha', toolName: 'read_file', toolPath: 'a.md' },
        ],
      },
    });
  });

  it('offers no tools when tool_choice is none', () => {
    const result = parse({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'read_file' } }],
      tool_choice: 'none',
    });
    expect(result.ok && result.request.modelRequest.toolNames).toEqual([]);
    expect(result.ok && result.request.autoToolChoice).toBe(false);
  });

  it('asks the model to reason for any reasoning_effort but none', () => {
    const reasoning = (effort: unknown) => {
      const result = parse({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        reasoning_effort: effort,
      });
      return result.ok && result.request.modelRequest.reasoning;
    };
    expect(reasoning('low')).toBe(true);
    expect(reasoning('minimal')).toBe(true);
    expect(reasoning('none')).toBe(false);
    expect(reasoning(undefined)).toBe(false);
  });
});
