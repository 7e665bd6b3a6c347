import Anthropic, {
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  RateLimitError,
  ServiceUnavailableError,
} from '@anthropic-ai/sdk';
import type {
  MessageCreateParamsBase,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_FAULTS } from '../faults.ts';
import { createSimServer, type SimServer } from '../server.ts';
import { ANTHROPIC_FAULTS } from './anthropic-faults.ts';

let sim: SimServer;
let client: Anthropic;

beforeAll(async () => {
  sim = await createSimServer({ seed: 3 });
  client = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});
afterAll(() => sim.close());

const fault = (name: string) => ({ headers: { 'x-tern-sim-fault': name } });
const body: MessageCreateParamsBase = {
  model: 'tern-sim',
  max_tokens: 256,
  messages: [{ role: 'user', content: 'hi' }],
};
const ask = (options?: { headers: Record<string, string> }, api: Anthropic = client) =>
  api.messages.create({ ...body, stream: false }, options);
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('fault table', () => {
  it('has a row for every fault name', () => {
    expect(Object.keys(ANTHROPIC_FAULTS).sort()).toEqual([...SIM_FAULTS].sort());
  });
});

describe('HTTP error faults', () => {
  it('rate_limit is a RateLimitError with retry-after and anthropic-ratelimit headers', async () => {
    const error = await failure(ask(fault('rate_limit')));
    expect(error).toBeInstanceOf(RateLimitError);
    const limited = error as RateLimitError;
    expect(limited).toMatchObject({ status: 429, type: 'rate_limit_error' });
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(limited.headers.get('anthropic-ratelimit-tokens-reset')).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/,
    );
    expect(limited.requestID).toMatch(/^req_011C[1-9A-HJ-NP-Za-km-z]{20}$/);
    expect(limited.error).toMatchObject({ type: 'error', request_id: limited.requestID });
  });

  it('overloaded is a 529 OverloadedError, an InternalServerError to the SDK', async () => {
    const error = await failure(ask(fault('overloaded')));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error).toMatchObject({
      status: 529,
      type: 'overloaded_error',
      apiMessage: 'Overloaded',
    });
  });

  it('server_error is a 500 api_error and unavailable a 503', async () => {
    const server = await failure(ask(fault('server_error')));
    expect(server).toBeInstanceOf(InternalServerError);
    expect(server).toMatchObject({ status: 500, type: 'api_error' });
    const unavailable = await failure(ask(fault('unavailable')));
    expect(unavailable).toBeInstanceOf(ServiceUnavailableError);
    expect(unavailable).toMatchObject({ status: 503, type: 'api_error' });
  });

  it('context_overflow is a 400 naming the prompt size and the 200k window', async () => {
    const error = await failure(ask(fault('context_overflow')));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      apiMessage: 'prompt is too long: 210000 tokens > 200000 maximum',
    });
  });

  it('refuses the reserved key sk-ant-invalid with an AuthenticationError', async () => {
    const api = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-invalid', maxRetries: 0 });
    const error = await failure(ask(undefined, api));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, type: 'authentication_error' });
  });

  it('stream_error on a non-streamed request is the whole answer: a 529', async () => {
    await expect(ask(fault('stream_error'))).rejects.toBeInstanceOf(OverloadedError);
  });

  it('a server-wide fault applies unless the request opts out with none', async () => {
    const faulty = await createSimServer({ fault: 'server_error' });
    const api = new Anthropic({ baseURL: faulty.url, apiKey: 'k', maxRetries: 0 });
    try {
      await expect(ask(undefined, api)).rejects.toBeInstanceOf(InternalServerError);
      await expect(ask(fault('none'), api)).resolves.toMatchObject({ type: 'message' });
    } finally {
      await faulty.close();
    }
  });

  it('rejects an unknown fault name as an invalid request', async () => {
    await expect(ask(fault('meteor'))).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
    });
  });
});

describe('faults inside a stream', () => {
  it('stream_error sends text, then an error event the SDK iterator throws', async () => {
    const stream = await client.messages.create({ ...body, stream: true }, fault('stream_error'));
    const received: RawMessageStreamEvent[] = [];
    let thrown: unknown;
    try {
      for await (const event of stream) received.push(event);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(APIError);
    expect(thrown).toMatchObject({ status: undefined, type: 'overloaded_error' });
    expect((thrown as APIError).error).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(received[0]?.type).toBe('message_start');
    const text = received.flatMap((e) =>
      e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [e.delta.text] : [],
    );
    expect(text.join('')).toBe('You said: hi');
    expect(received.some((e) => e.type === 'message_delta')).toBe(false);
  });

  it('cut drops the connection after message_start, before message_stop', async () => {
    const stream = await client.messages.create({ ...body, stream: true }, fault('cut'));
    const received: RawMessageStreamEvent[] = [];
    const iterate = async () => {
      for await (const event of stream) received.push(event);
    };
    await expect(iterate()).rejects.toThrow();
    expect(received[0]?.type).toBe('message_start');
    expect(received.some((e) => e.type === 'message_stop')).toBe(false);
  });

  it('truncated_tool_json cuts the input mid-JSON and still stops with tool_use', async () => {
    const stream = await client.messages.create(
      {
        ...body,
        stream: true,
        messages: [{ role: 'user', content: 'read notes.md' }],
        tools: [{ name: 'read_file', input_schema: { type: 'object' } }],
      },
      fault('truncated_tool_json'),
    );
    const events: RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const json = events
      .flatMap((e) =>
        e.type === 'content_block_delta' && e.delta.type === 'input_json_delta'
          ? [e.delta.partial_json]
          : [],
      )
      .join('');
    expect('{"path":"notes.md"}'.startsWith(json)).toBe(true);
    expect(json.length).toBeGreaterThan(0);
    expect(() => JSON.parse(json)).toThrow();
    expect(events.map((e) => e.type).slice(-3)).toEqual([
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('slow_drip spaces the pieces by the drip pause', async () => {
    const started = performance.now();
    const stream = await client.messages.create(
      { ...body, max_tokens: 3, stream: true },
      { headers: { 'x-tern-sim-fault': 'slow_drip', 'x-tern-sim-drip-ms': '60' } },
    );
    const times: number[] = [];
    for await (const event of stream) {
      if (event.type === 'content_block_delta') times.push(performance.now() - started);
    }
    expect(times).toHaveLength(2);
    expect(times[0]).toBeGreaterThanOrEqual(55);
    // From the start, not from the first piece: a first piece read late (a busy event loop)
    // shortens the gap seen between the two without the server pausing any less.
    expect(times[1]).toBeGreaterThanOrEqual(110);
  });

  it('hang never answers, and the client can abort it', async () => {
    const started = performance.now();
    const error = await failure(
      client.messages.create(
        { ...body, stream: false },
        { ...fault('hang'), signal: AbortSignal.timeout(100) },
      ),
    );
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
