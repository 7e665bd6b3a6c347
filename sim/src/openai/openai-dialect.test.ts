import OpenAI, { APIError, AuthenticationError, BadRequestError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';

// vLLM's quirks as dialects of the OpenAI route. Each test checks what the official SDK makes of
// the quirk: it must accept it, or fail exactly as it does against a real vLLM server.

const tools: ChatCompletionTool[] = ['read_file', 'list_files', 'now'].map((name) => ({
  type: 'function',
  function: { name, parameters: { type: 'object', properties: {} } },
}));

let sim: SimServer;
let client: OpenAI;
beforeAll(async () => {
  sim = await createSimServer({
    seed: 11,
    scenarios: [{ name: 'clock', steps: [{ toolCalls: [{ name: 'now', arguments: {} }] }] }],
  });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => sim.close());

const as = (dialect: string, extra: Record<string, string> = {}) => ({
  headers: { 'x-tern-sim-dialect': dialect, ...extra },
});
const readGuide = {
  model: 'tern-sim',
  messages: [{ role: 'user' as const, content: 'read docs/guide.md' }],
  tools,
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('vllm', () => {
  it('streams vLLM ids, a separate role chunk, a name-only call delta and the arguments whole', async () => {
    const chunks = await collect(
      await client.chat.completions.create({ ...readGuide, stream: true }, as('vllm')),
    );
    expect(chunks[0]?.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(chunks[0]).not.toHaveProperty('system_fingerprint');
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas).toEqual([
      {
        index: 0,
        id: expect.stringMatching(/^chatcmpl-tool-[0-9a-f]{32}$/),
        type: 'function',
        function: { name: 'read_file' },
      },
      { index: 0, function: { arguments: '{"path":"docs/guide.md"}' } },
    ]);
    const finish = chunks.at(-1)?.choices[0];
    expect(finish).toMatchObject({ finish_reason: 'tool_calls', stop_reason: null });
  });

  it('passes the SDK’s stream assembler', async () => {
    const completion = await client.chat.completions
      .stream(readGuide, as('vllm'))
      .finalChatCompletion();
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-tool-/),
      function: { name: 'read_file', arguments: '{"path":"docs/guide.md"}' },
    });
  });

  it('streams no arguments at all for an argument-less call; the SDK assembles ""', async () => {
    const headers = as('vllm', { 'x-tern-sim-scenario': 'clock' });
    const chunks = await collect(
      await client.chat.completions.create({ ...readGuide, stream: true }, headers),
    );
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas).toHaveLength(1);
    expect(deltas[0]?.function).toEqual({ name: 'now' });
    const completion = await client.chat.completions
      .stream(readGuide, headers)
      .finalChatCompletion();
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.arguments).toBe('');
    // Non-streamed, vLLM serialises the empty object, and OpenAI streams it as usual.
    const whole = await client.chat.completions.create(readGuide, headers);
    const wholeCall = whole.choices[0]?.message.tool_calls?.[0];
    expect(wholeCall?.type === 'function' && wholeCall.function.arguments).toBe('{}');
  });

  it('answers non-streamed with vLLM’s message shape and bare usage', async () => {
    const completion = await client.chat.completions.create(readGuide, as('vllm'));
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      stop_reason: null,
      message: { role: 'assistant', content: null, reasoning_content: null },
    });
    expect(completion.usage).toEqual({
      prompt_tokens: expect.any(Number),
      total_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
    });
  });

  it('sends old flat errors, which the SDK cannot read: the message is lost', async () => {
    const error = await client.chat.completions
      .create(
        { ...readGuide, max_tokens: 100 },
        as('vllm', { 'x-tern-sim-fault': 'context_overflow' }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, error: undefined, code: undefined });
    expect((error as Error).message).toBe('400 status code (no body)');

    const raw = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-tern-sim-dialect': 'vllm', 'x-tern-sim-fault': 'context_overflow' },
      body: JSON.stringify({ ...readGuide, max_tokens: 100 }),
    });
    expect(await raw.json()).toEqual({
      object: 'error',
      message:
        "This model's maximum context length is 8192 tokens. However, you requested 8193 tokens (8093 in the messages, 100 in the completion). Please reduce the length of the messages or completion.",
      type: 'BadRequestError',
      param: null,
      code: 400,
    });
  });

  it('refuses a wrong key with vLLM’s bare {"error":"Unauthorized"}', async () => {
    const api = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-invalid', maxRetries: 0 });
    const error = await api.chat.completions.create(readGuide, as('vllm')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toBe('401 "Unauthorized"');
  });

  it('sends an in-stream error wrapped in {"error": …} and still ends with [DONE]', async () => {
    const stream = await client.chat.completions.create(
      { ...readGuide, tools: undefined, stream: true },
      as('vllm', { 'x-tern-sim-fault': 'stream_error' }),
    );
    const thrown = await collect(stream).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(APIError);
    expect(thrown).toMatchObject({ status: undefined, code: 500, type: 'InternalServerError' });

    const raw = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-tern-sim-dialect': 'vllm', 'x-tern-sim-fault': 'stream_error' },
      body: JSON.stringify({ ...readGuide, tools: undefined, stream: true }),
    });
    const text = await raw.text();
    expect(text).toContain('data: {"error":{"object":"error","message":"The server had an error');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});

describe('vllm-new-errors', () => {
  it('wraps errors in {error:{…}} with the status as code, which the SDK reads', async () => {
    const error = await client.chat.completions
      .create(readGuide, as('vllm-new-errors', { 'x-tern-sim-fault': 'context_overflow' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 400, type: 'BadRequestError', param: null });
    expect((error as Error).message).toMatch(
      /^400 This model's maximum context length is 8192 tokens\. However, you requested \d+ tokens in the messages, Please reduce the length of the messages\.$/,
    );
  });
});

describe('vllm-stop-finish', () => {
  it('finishes a tool call with stop; the SDK keeps the calls and reports stop', async () => {
    const completion = await client.chat.completions
      .stream(readGuide, as('vllm-stop-finish'))
      .finalChatCompletion();
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.choices[0]?.message.tool_calls).toHaveLength(1);
  });
});

describe('vllm-hermes', () => {
  it('leaks the call as <tool_call> text with finish stop and no tool_calls', async () => {
    const completion = await client.chat.completions
      .stream(
        { ...readGuide, messages: [{ role: 'user', content: 'list files and read a.md' }] },
        as('vllm-hermes'),
      )
      .finalChatCompletion();
    const message = completion.choices[0]?.message;
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(message?.tool_calls).toBeUndefined();
    expect(message?.content).toBe(
      '<tool_call>\n{"name": "list_files", "arguments": {"path": "."}}\n</tool_call>\n' +
        '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.md"}}\n</tool_call>',
    );
  });
});

describe('vllm-reasoning', () => {
  it('thinks in reasoning_content before every answer, uncounted in usage as on vLLM', async () => {
    const chunks = await collect(
      await client.chat.completions.create(
        { ...readGuide, stream: true, stream_options: { include_usage: true } },
        as('vllm-reasoning'),
      ),
    );
    const reasoning = chunks
      .map((c) => c.choices[0]?.delta as { reasoning_content?: string } | undefined)
      .map((d) => d?.reasoning_content ?? '')
      .join('');
    expect(reasoning).toBe('The user mentioned docs/guide.md, so I will read it with read_file.');
    const firstCall = chunks.findIndex((c) => c.choices[0]?.delta.tool_calls);
    const lastThought = chunks.findLastIndex(
      (c) => 'reasoning_content' in (c.choices[0]?.delta ?? {}),
    );
    expect(lastThought).toBeLessThan(firstCall);
    expect(chunks.at(-1)?.usage).not.toHaveProperty('completion_tokens_details');
  });
});

describe('dialect selection', () => {
  it('rejects an unknown dialect header in the server’s own dialect', async () => {
    await expect(client.chat.completions.create(readGuide, as('tgi'))).rejects.toMatchObject({
      status: 400,
      param: 'x-tern-sim-dialect',
    });
  });

  it('takes the server’s dialect when the request names none', async () => {
    const vllm = await createSimServer({ dialect: 'vllm' });
    try {
      const api = new OpenAI({ baseURL: `${vllm.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
      const completion = await api.chat.completions.create(readGuide);
      expect(completion.choices[0]?.message.tool_calls?.[0]?.id).toMatch(/^chatcmpl-tool-/);
      const openai = await api.chat.completions.create(readGuide, as('openai'));
      expect(openai.choices[0]?.message.tool_calls?.[0]?.id).toMatch(/^call_/);
    } finally {
      await vllm.close();
    }
  });
});
