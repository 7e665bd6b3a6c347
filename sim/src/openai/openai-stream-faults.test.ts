import OpenAI, { APIError, InternalServerError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';

// The faults added for retry and stream-failure handling, as the official SDK surfaces them.

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'read_file', parameters: { type: 'object', properties: {} } },
  },
];

let sim: SimServer;
let client: OpenAI;
beforeAll(async () => {
  sim = await createSimServer({ seed: 3 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => sim.close());

const headers = (h: Record<string, string>) => ({ headers: h });
const hello = { model: 'tern-sim', messages: [{ role: 'user' as const, content: 'hello there' }] };

describe('overloaded', () => {
  it('is a 503 InternalServerError with OpenAI’s engine-overloaded body and retry-after', async () => {
    const error = await client.chat.completions
      .create(hello, headers({ 'x-tern-sim-fault': 'overloaded' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    const e = error as InternalServerError;
    expect(e.status).toBe(503);
    expect(e.error).toEqual({
      message: 'The engine is currently overloaded, please try again later',
      type: 'server_error',
      param: null,
      code: null,
    });
    expect(e.headers.get('retry-after')).toBe('1');
  });
});

describe('stream_error', () => {
  it('streams a few chunks after HTTP 200, then the SDK throws a status-less APIError', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ ...hello, stream: true }, headers({ 'x-tern-sim-fault': 'stream_error' }))
      .withResponse();
    expect(response.status).toBe(200);
    const received: ChatCompletionChunk[] = [];
    let thrown: unknown;
    try {
      for await (const chunk of stream) received.push(chunk);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(APIError);
    expect(thrown).not.toBeInstanceOf(InternalServerError);
    expect(thrown).toMatchObject({
      status: undefined,
      type: 'server_error',
      message: 'The server had an error while processing your request. Sorry about that!',
    });
    // The role chunk and three words; never a finish.
    expect(received).toHaveLength(4);
    expect(received.map((c) => c.choices[0]?.delta.content).join('')).toBe('You said: hello');
    expect(received.some((c) => c.choices[0]?.finish_reason)).toBe(false);
  });

  it('ends the stream right after the error event, without [DONE], as OpenAI does', async () => {
    const response = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-tern-sim-fault': 'stream_error' },
      body: JSON.stringify({ ...hello, stream: true }),
    });
    const text = await response.text();
    expect(
      text.endsWith(
        'data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}\n\n',
      ),
    ).toBe(true);
  });

  it('is a plain 500 for a request that is not streamed', async () => {
    await expect(
      client.chat.completions.create(hello, headers({ 'x-tern-sim-fault': 'stream_error' })),
    ).rejects.toMatchObject({ status: 500 });
  });
});

describe('truncated_tool_json', () => {
  it('closes a call whose arguments are cut mid-JSON with finish tool_calls, which the SDK accepts', async () => {
    const completion = await client.chat.completions
      .stream(
        { ...hello, messages: [{ role: 'user', content: 'read docs/guide.md' }], tools },
        headers({ 'x-tern-sim-fault': 'truncated_tool_json' }),
      )
      .finalChatCompletion();
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('read_file');
    const args = call?.type === 'function' ? call.function.arguments : '';
    expect('{"path":"docs/guide.md"}'.startsWith(args)).toBe(true);
    expect(() => JSON.parse(args)).toThrow();
  });

  it('calls the first offered tool even when the model would have answered in text', async () => {
    const completion = await client.chat.completions.create(
      { ...hello, tools },
      headers({ 'x-tern-sim-fault': 'truncated_tool_json' }),
    );
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      function: { name: 'read_file', arguments: '{"path":"R' },
    });
  });
});

describe('slow_drip', () => {
  /** Arrival of each content chunk, in ms after the request was sent. */
  async function arrivals(extra: Record<string, string>, maxTokens: number) {
    const started = performance.now();
    const stream = await client.chat.completions.create(
      { ...hello, stream: true, max_tokens: maxTokens },
      headers({ 'x-tern-sim-fault': 'slow_drip', ...extra }),
    );
    const times: number[] = [];
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) times.push(performance.now() - started);
    }
    return times;
  }
  // Pieces are due at absolute times, so each arrival is bounded below however loaded the machine
  // is (a late timer may deliver two pieces at once, so gaps between arrivals are not).

  it('pauses 200 ms before every piece by default', async () => {
    const times = await arrivals({}, 3); // "You", " said:"
    expect(times).toHaveLength(2);
    expect(times[0]).toBeGreaterThanOrEqual(199);
    expect(times[1]).toBeGreaterThanOrEqual(399);
  });

  it('takes its pause from x-tern-sim-drip-ms', async () => {
    const times = await arrivals({ 'x-tern-sim-drip-ms': '40' }, 7); // "You said: hello there"
    expect(times).toHaveLength(4);
    times.forEach((t, i) => {
      expect(t).toBeGreaterThanOrEqual(40 * (i + 1) - 1);
    });
    expect(times.at(-1)!).toBeLessThan(1000);
  });

  it('lets a client time out on a slow stream', async () => {
    const stream = await client.chat.completions.create(
      { ...hello, stream: true },
      { ...headers({ 'x-tern-sim-fault': 'slow_drip' }), signal: AbortSignal.timeout(300) },
    );
    const received: ChatCompletionChunk[] = [];
    const iterate = async () => {
      for await (const chunk of stream) received.push(chunk);
    };
    // The SDK ends an aborted stream quietly; the reply is simply incomplete.
    await iterate().catch(() => undefined);
    expect(received.length).toBeGreaterThan(0);
    expect(received.some((c) => c.choices[0]?.finish_reason)).toBe(false);
  });
});
