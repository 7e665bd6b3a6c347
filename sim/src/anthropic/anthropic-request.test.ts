import { describe, expect, it } from 'vitest';
import { parseAnthropicRequest } from './anthropic-request.ts';
import { thinkingSignature } from './anthropic-thinking.ts';

const parse = (body: Record<string, unknown>) =>
  parseAnthropicRequest(JSON.stringify({ model: 'tern-sim', max_tokens: 100, ...body }));

function refusal(body: Record<string, unknown>): string {
  const result = parse(body);
  if (result.ok) throw new Error('expected the request to be refused');
  expect(result.error.status).toBe(400);
  expect(result.error.error.type).toBe('invalid_request_error');
  return result.error.error.message;
}

const user = (content: unknown) => ({ role: 'user', content });
const assistant = (content: unknown) => ({ role: 'assistant', content });
const toolUse = (id: string, input: unknown = { path: 'a.md' }) => ({
  type: 'tool_use',
  id,
  name: 'read_file',
  input,
});
const toolResult = (id: string, content = 'text') => ({
  type: 'tool_result',
  tool_use_id: id,
  content,
});
const tools = [{ name: 'read_file', input_schema: { type: 'object' } }];

describe('top-level fields', () => {
  it('requires model and max_tokens, and max_tokens to be a non-negative integer', () => {
    const noModel = parseAnthropicRequest(JSON.stringify({ max_tokens: 5, messages: [user('x')] }));
    expect(noModel.ok || noModel.error.error.message).toBe('model: Field required');
    expect(refusal({ max_tokens: undefined, messages: [user('x')] })).toBe(
      'max_tokens: Field required',
    );
    expect(refusal({ max_tokens: 1.5, messages: [user('x')] })).toBe(
      'max_tokens: Input should be a valid integer',
    );
    expect(refusal({ max_tokens: -1, messages: [user('x')] })).toMatch(
      /greater than or equal to 0/,
    );
  });

  it("refuses fields of another dialect, such as OpenAI's stop", () => {
    expect(refusal({ stop: ['x'], messages: [user('x')] })).toBe(
      'stop: Extra inputs are not permitted',
    );
  });

  it('refuses invalid JSON', () => {
    const result = parseAnthropicRequest('{"model":');
    expect(result.ok).toBe(false);
  });

  it('counts the system prompt, given as a string or text blocks', () => {
    const plain = parse({ system: 'Be brief.', messages: [user('hi')] });
    const blocks = parse({
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [user('hi')],
    });
    expect(plain.ok && plain.request.promptTokens).toBe(5);
    expect(blocks.ok && blocks.request.promptTokens).toBe(5);
  });

  it('validates tools and tool_choice, and narrows the offered tools by the choice', () => {
    expect(
      refusal({
        tools: [{ name: 'bad name', input_schema: { type: 'object' } }],
        messages: [user('x')],
      }),
    ).toMatch(/^tools\.0\.custom\.name: String should match pattern/);
    expect(refusal({ tools: [{ name: 'read_file' }], messages: [user('x')] })).toBe(
      'tools.0.custom.input_schema: Field required',
    );
    const none = parse({ tools, tool_choice: { type: 'none' }, messages: [user('read a.md')] });
    expect(none.ok && none.request.modelRequest.toolNames).toEqual([]);
    const named = parse({
      tools: [...tools, { name: 'list_files', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'list_files' },
      messages: [user('x')],
    });
    expect(named.ok && named.request.modelRequest.toolNames).toEqual(['list_files']);
  });
});

describe('thinking', () => {
  it('needs a budget of at least 1024 below max_tokens', () => {
    expect(
      refusal({ thinking: { type: 'enabled', budget_tokens: 512 }, messages: [user('x')] }),
    ).toBe('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
    expect(
      refusal({
        max_tokens: 1024,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [user('x')],
      }),
    ).toMatch(/^`max_tokens` must be greater than `thinking.budget_tokens`/);
  });

  it('refuses thinking with a forced tool, or with a temperature other than 1', () => {
    const thinking = { type: 'enabled', budget_tokens: 1024 };
    expect(
      refusal({
        max_tokens: 2000,
        thinking,
        tools,
        tool_choice: { type: 'any' },
        messages: [user('x')],
      }),
    ).toBe('Thinking may not be enabled when tool_choice forces tool use.');
    expect(
      refusal({ max_tokens: 2000, thinking, temperature: 0.2, messages: [user('x')] }),
    ).toMatch(/^`temperature` may only be set to 1 when thinking is enabled/);
  });

  it('asks the model to reason when thinking is enabled or adaptive', () => {
    const enabled = parse({
      max_tokens: 2000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [user('x')],
    });
    expect(enabled.ok && enabled.request.modelRequest.reasoning).toBe(true);
    const adaptive = parse({ thinking: { type: 'adaptive' }, messages: [user('x')] });
    expect(adaptive.ok && adaptive.request.thinking).toEqual({ enabled: true, omitted: false });
    const off = parse({ messages: [user('x')] });
    expect(off.ok && off.request.thinking).toEqual({ enabled: false });
  });

  it('accepts a replayed thinking block only with the signature it was given', () => {
    const thought = 'I should read it.';
    const history = (signature: string) => [
      user('read a.md'),
      assistant([{ type: 'thinking', thinking: thought, signature }, toolUse('toolu_1')]),
      user([toolResult('toolu_1')]),
    ];
    expect(parse({ messages: history(thinkingSignature(thought)) }).ok).toBe(true);
    expect(refusal({ messages: history('forged') })).toBe(
      'messages.1.content.0: Invalid `signature` in `thinking` block',
    );
  });
});

describe('messages', () => {
  it('refuses an empty list and a first message that is not the user', () => {
    expect(refusal({ messages: [] })).toBe('messages: at least one message is required');
    expect(refusal({ messages: [assistant('hi'), user('x')] })).toBe(
      'messages: first message must use the "user" role',
    );
  });

  it('merges consecutive turns of one role, as the API documents', () => {
    const result = parse({ messages: [user('first'), user('second')] });
    expect(result.ok && result.request.modelRequest.messages).toEqual([
      { role: 'user', text: 'first\nsecond' },
    ]);
  });

  it('accepts system-role messages among the turns', () => {
    const result = parse({
      messages: [user('hi'), { role: 'system', content: 'Be brief.' }, assistant('ok'), user('x')],
    });
    expect(result.ok).toBe(true);
  });

  it('refuses empty content and empty text blocks', () => {
    expect(refusal({ messages: [user('')] })).toBe(
      'messages.0: all messages must have non-empty content except for the optional final assistant message',
    );
    expect(refusal({ messages: [user([{ type: 'text', text: '' }])] })).toBe(
      'messages: text content blocks must be non-empty',
    );
  });

  it('refuses a prefill that ends with whitespace', () => {
    expect(refusal({ messages: [user('x'), assistant('Sure, ')] })).toBe(
      'messages: final assistant content cannot end with trailing whitespace',
    );
  });

  it('refuses blocks in the wrong role', () => {
    expect(refusal({ messages: [user([toolUse('toolu_1')])] })).toMatch(
      /^messages\.0\.content\.0: `tool_use` blocks are not allowed in `user` messages/,
    );
  });

  it('requires every tool_use to be answered at the head of the next user turn', () => {
    expect(refusal({ messages: [user('x'), assistant([toolUse('toolu_1')]), user('next')] })).toBe(
      'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
    );
    // Text before the result does not count as "immediately after".
    expect(
      refusal({
        messages: [
          user('x'),
          assistant([toolUse('toolu_1')]),
          user([{ type: 'text', text: 'here' }, toolResult('toolu_1')]),
        ],
      }),
    ).toMatch(/^messages\.1: `tool_use` ids were found without `tool_result` blocks/);
  });

  it('refuses a tool_result that answers no call of the previous turn', () => {
    expect(
      refusal({
        messages: [user('x'), assistant([toolUse('toolu_1')]), user([toolResult('toolu_2')])],
      }),
    ).toMatch(
      /^messages\.2\.content\.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_2/,
    );
  });

  it('refuses tool ids outside the allowed alphabet and duplicate ids', () => {
    expect(refusal({ messages: [user('x'), assistant([toolUse('call:1')])] })).toBe(
      "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'",
    );
    expect(
      refusal({
        messages: [
          user('x'),
          assistant([toolUse('toolu_1'), toolUse('toolu_1')]),
          user([toolResult('toolu_1')]),
        ],
      }),
    ).toBe('messages.1.content.1: `tool_use` ids must be unique');
  });

  it('turns tool results into tool messages that know their call, for the rule model', () => {
    const result = parse({
      tools,
      messages: [
        user('read a.md'),
        assistant([toolUse('toolu_1', { path: 'a.md' })]),
        user([toolResult('toolu_1', '# A'), { type: 'text', text: 'thanks' }]),
      ],
    });
    expect(result.ok && result.request.modelRequest.messages).toEqual([
      { role: 'user', text: 'read a.md' },
      { role: 'assistant', text: '' },
      { role: 'tool', text: '# A', toolName: 'read_file', toolPath: 'a.md' },
      { role: 'user', text: 'thanks' },
    ]);
  });
});
