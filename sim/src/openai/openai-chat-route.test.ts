import OpenAI, {
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';

// The official SDK is the arbiter of wire fidelity: every reply below goes through its parser.

const tools: ChatCompletionTool[] = ['read_file', 'list_files'].map((name) => ({
  type: 'function',
  function: { name, parameters: { type: 'object', properties: { path: { type: 'string' } } } },
}));

let sim: SimServer;
let client: OpenAI;

beforeAll(async () => {
  sim = await createSimServer({ seed: 7 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => sim.close());

const fault = (name: string) => ({ headers: { 'x-tern-sim-fault': name } });

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('streamed chat completions', () => {
  it('streams a text answer that reassembles to the echo, with usage in the last chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'tern-sim',
      messages: [{ role: 'user', content: 'Hello, simulator!' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);

    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toMatch(/^You said: Hello, simulator! I am Tern's built-in simulated model/);
    const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason));
    expect(finishes.filter((f) => f !== null)).toEqual(['stop']);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({
      prompt_tokens: 7,
      total_tokens: 7 + last.usage!.completion_tokens,
    });
    expect(last.usage!.completion_tokens).toBeGreaterThan(10);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('streams read_file calls whose fragments reassemble to the exact arguments', async () => {
    const stream = await client.chat.completions.create({
      model: 'tern-sim',
      messages: [{ role: 'user', content: 'What is in docs/guide.md?' }],
      tools,
      stream: true,
    });
    const chunks = await collect(stream);

    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'read_file', arguments: '' },
    });
    expect(deltas[0]?.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    const fragments = deltas.slice(1);
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    for (const fragment of fragments)
      expect(Object.keys(fragment).sort()).toEqual(['function', 'index']);
    expect(fragments.map((d) => d.function?.arguments).join('')).toBe('{"path":"docs/guide.md"}');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it("satisfies the SDK's strict stream assembler with two parallel calls", async () => {
    const completion = await client.chat.completions
      .stream({
        model: 'tern-sim',
        messages: [{ role: 'user', content: 'list files, then read package.json' }],
        tools,
      })
      .finalChatCompletion();
    const calls = completion.choices[0]?.message.tool_calls ?? [];
    expect(
      calls.map((c) => (c.type === 'function' ? [c.function.name, c.function.arguments] : [])),
    ).toEqual([
      ['list_files', '{"path":"."}'],
      ['read_file', '{"path":"package.json"}'],
    ]);
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers a tool result with a summary containing its first line', async () => {
    const stream = await client.chat.completions.create({
      model: 'tern-sim',
      stream: true,
      tools,
      messages: [
        { role: 'user', content: 'read README.md' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'read_file', arguments: '{"path":"README.md"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '# Tern: agents at scale\nMore text.' },
      ],
    });
    const text = (await collect(stream)).map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('I read README.md. It says: # Tern: agents at scale More text.');
  });

  it('gives the same tool-call ids for the same seed and request', async () => {
    const other = await createSimServer({ seed: 7 });
    try {
      const ask = (baseURL: string) =>
        new OpenAI({ baseURL, apiKey: 'sk-test', maxRetries: 0 }).chat.completions.create({
          model: 'tern-sim',
          messages: [{ role: 'user', content: 'read a.md' }],
          tools,
        });
      const [a, b] = await Promise.all([ask(`${sim.url}/v1`), ask(`${other.url}/v1`)]);
      expect(a.choices[0]?.message.tool_calls?.[0]?.id).toBe(
        b.choices[0]?.message.tool_calls?.[0]?.id,
      );
    } finally {
      await other.close();
    }
  });
});

describe('non-streamed chat completions', () => {
  it('returns a chat.completion with message, refusal and usage', async () => {
    const completion = await client.chat.completions.create({
      model: 'tern-sim',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'ping' },
      ],
    });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'tern-sim',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', refusal: null } }],
      usage: { prompt_tokens: 5 },
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices[0]?.message.content).toMatch(/^You said: ping /);
  });

  it('returns tool calls with null content', async () => {
    const completion = await client.chat.completions.create({
      model: 'tern-sim',
      messages: [{ role: 'user', content: 'open src/index.ts' }],
      tools,
    });
    const message = completion.choices[0]?.message;
    expect(message?.content).toBeNull();
    expect(message?.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'read_file', arguments: '{"path":"src/index.ts"}' },
    });
  });

  it('honours max_tokens and finishes with length', async () => {
    const completion = await client.chat.completions.create({
      model: 'tern-sim',
      messages: [{ role: 'user', content: 'tell me everything' }],
      max_tokens: 4,
    });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.choices[0]?.message.content).toBe('You said: tell');
    expect(completion.usage?.completion_tokens).toBe(4);
  });

  it('honours max_completion_tokens in a stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'tern-sim',
      messages: [{ role: 'user', content: 'tell me everything' }],
      max_completion_tokens: 3,
      stream: true,
    });
    const chunks = await collect(stream);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('You said:');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });
});

describe('errors', () => {
  const ask = (options?: { headers: Record<string, string> }, api: OpenAI = client) =>
    api.chat.completions.create(
      { model: 'tern-sim', messages: [{ role: 'user', content: 'hi' }] },
      options,
    );

  it('rate_limit is a RateLimitError carrying the retry headers', async () => {
    const error = await ask(fault('rate_limit')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const rateLimit = error as RateLimitError;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.type).toBe('tokens');
    expect(rateLimit.headers.get('retry-after')).toBe('1');
    expect(rateLimit.headers.get('retry-after-ms')).toBe('1000');
    expect(rateLimit.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(rateLimit.requestID).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('server_error and unavailable are InternalServerErrors', async () => {
    const server = await ask(fault('server_error')).catch((e: unknown) => e);
    expect(server).toBeInstanceOf(InternalServerError);
    expect(server).toMatchObject({ status: 500, type: 'server_error' });
    const unavailable = await ask(fault('unavailable')).catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(InternalServerError);
    expect(unavailable).toMatchObject({ status: 503 });
  });

  it('context_overflow is a BadRequestError with code context_length_exceeded', async () => {
    const error = await ask(fault('context_overflow')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      param: 'messages',
    });
    expect((error as BadRequestError).message).toMatch(
      /maximum context length is 8192 tokens\. However, your messages resulted in \d+ tokens/,
    );
  });

  it('refuses the reserved key sk-invalid with an AuthenticationError', async () => {
    const api = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-invalid', maxRetries: 0 });
    const error = await ask(undefined, api).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('cut drops the connection mid-stream, after some chunks arrived', async () => {
    const stream = await client.chat.completions.create(
      { model: 'tern-sim', messages: [{ role: 'user', content: 'hi' }], stream: true },
      fault('cut'),
    );
    const received: ChatCompletionChunk[] = [];
    const iterate = async () => {
      for await (const chunk of stream) received.push(chunk);
    };
    await expect(iterate()).rejects.toThrow();
    expect(received.length).toBeGreaterThan(0);
    expect(received.some((c) => c.choices[0]?.finish_reason)).toBe(false);
  });

  it('hang never answers, and the client can abort it', async () => {
    const started = performance.now();
    const error = await client.chat.completions
      .create(
        { model: 'tern-sim', messages: [{ role: 'user', content: 'hi' }] },
        { ...fault('hang'), signal: AbortSignal.timeout(100) },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a server-wide fault applies unless the request opts out with none', async () => {
    const faulty = await createSimServer({ fault: 'server_error' });
    const api = new OpenAI({ baseURL: `${faulty.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    try {
      await expect(ask(undefined, api)).rejects.toBeInstanceOf(InternalServerError);
      await expect(ask(fault('none'), api)).resolves.toMatchObject({ object: 'chat.completion' });
    } finally {
      await faulty.close();
    }
  });

  it('rejects an unknown fault name as a bad request', async () => {
    await expect(ask(fault('meteor'))).rejects.toMatchObject({
      status: 400,
      param: 'x-tern-sim-fault',
    });
  });
});
