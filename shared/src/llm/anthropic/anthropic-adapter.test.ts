import { createSimServer, type SimServer } from '@tern/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmError, LlmEvent, LlmRequest } from '../llm-types.ts';
import { defaultRetryPolicy } from '../retry-policy.ts';
import { driveStream } from '../stream-driver.ts';
import { anthropicAdapter } from './anthropic-adapter.ts';

// End to end: Tern's adapter, the official SDK and the sim's Anthropic route over real HTTP.

let sim: SimServer;
let adapter: ReturnType<typeof anthropicAdapter>;

beforeAll(async () => {
  sim = await createSimServer({ seed: 11 });
  adapter = anthropicAdapter({ apiKey: 'sk-ant-test', baseURL: sim.url });
});
afterAll(() => sim.close());

type Outcome = { events: LlmEvent[]; error?: LlmError };

/** Drives the adapter as the stream driver does, minus retries. */
async function run(request: LlmRequest, signal = new AbortController().signal): Promise<Outcome> {
  const state = adapter.createState(request);
  const events: LlmEvent[] = [];
  try {
    const chunks = await adapter.open(request, signal);
    for await (const chunk of chunks) adapter.translate(chunk, state, events);
    adapter.end(state, events);
    return { events };
  } catch (error) {
    return { events, error: adapter.mapError(error) };
  }
}

const tools = [
  {
    name: 'read_file',
    description: 'Reads a file',
    parameters: { type: 'object', properties: { path: { type: 'string' } } },
  },
];
const ask = (content: string, extra: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'tern-sim',
  messages: [{ role: 'user', content }],
  ...extra,
});
const withFault = (fault: string, extra: Partial<LlmRequest> = {}) =>
  ask('hi', { headers: { 'x-tern-sim-fault': fault }, ...extra });
const words = (text: string) =>
  (text.match(/\s*\S+/g) ?? []).map((word) => ({ type: 'text_delta', text: word }));

describe('Anthropic adapter against the sim', () => {
  it('streams a text answer word by word, then usage and stop', async () => {
    const { events, error } = await run(ask('hi'));
    expect(error).toBeUndefined();
    const text =
      "You said: hi I am Tern's built-in simulated model, so this reply is canned; configure a provider key to talk to a real model.";
    const usage = events.at(-2);
    expect(events).toEqual([
      ...words(text),
      {
        type: 'usage',
        usage: { input: 1, output: expect.any(Number), cached: 0, reasoning: 0, costUsd: 0 },
      },
      { type: 'finish', reason: 'stop' },
    ]);
    expect(usage?.type === 'usage' && usage.usage.output).toBeGreaterThan(20);
  });

  it('streams a tool call and closes it with parsed arguments', async () => {
    const { events } = await run(ask('read a.md', { tools }));
    const start = events[0];
    expect(start).toMatchObject({ type: 'tool_call_start', name: 'read_file' });
    const id = start?.type === 'tool_call_start' ? start.id : '';
    expect(id).toMatch(/^toolu_01/);
    expect(events).toEqual([
      { type: 'tool_call_start', id, name: 'read_file' },
      { type: 'tool_call_delta', id, argsText: '{"pat' },
      { type: 'tool_call_delta', id, argsText: 'h":"a' },
      { type: 'tool_call_delta', id, argsText: '.md"}' },
      {
        type: 'tool_call_end',
        id,
        name: 'read_file',
        rawArgs: '{"path":"a.md"}',
        parsed: { ok: true, args: { path: 'a.md' } },
      },
      { type: 'usage', usage: expect.objectContaining({ input: expect.any(Number) }) },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('thinks first with reasoning effort, signs it, and the signed history replays', async () => {
    const first = await run(ask('read a.md', { tools, reasoningEffort: 'low' }));
    expect(first.error).toBeUndefined();
    const types = first.events.map((e) => e.type);
    const signatureAt = types.indexOf('reasoning_signature');
    expect(types.slice(0, signatureAt).every((t) => t === 'reasoning_delta')).toBe(true);
    expect(signatureAt).toBeGreaterThan(1);
    expect(types.slice(signatureAt + 1, signatureAt + 2)).toEqual(['tool_call_start']);
    const signature = first.events[signatureAt];
    if (signature?.type !== 'reasoning_signature') throw new Error('no signature');
    expect(signature.meta).toEqual({
      provider: 'anthropic',
      signature: expect.stringMatching(/^Eu/),
    });
    const reasoning = first.events
      .flatMap((e) => (e.type === 'reasoning_delta' ? [e.text] : []))
      .join('');
    const call = first.events.find((e) => e.type === 'tool_call_end');
    if (call?.type !== 'tool_call_end' || !call.parsed.ok) throw new Error('no call');

    const second = await run(
      ask('read a.md', {
        tools,
        reasoningEffort: 'low',
        messages: [
          { role: 'user', content: 'read a.md' },
          {
            role: 'assistant',
            origin: 'anthropic:tern-sim',
            content: [
              { type: 'reasoning', text: reasoning, meta: signature.meta },
              { type: 'tool_call', id: call.id, name: call.name, args: call.parsed.args },
            ],
          },
          { role: 'tool', toolCallId: call.id, toolName: call.name, content: '# A\nbody' },
        ],
      }),
    );
    expect(second.error).toBeUndefined();
    const text = second.events.flatMap((e) => (e.type === 'text_delta' ? [e.text] : [])).join('');
    expect(text).toBe('I read a.md. It says: # A body');
    expect(second.events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('a forged signature in the history is refused as an invalid request', async () => {
    const { error } = await run(
      ask('x', {
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: [
              {
                type: 'reasoning',
                text: 'thought',
                meta: { provider: 'anthropic', signature: 'forged' },
              },
              { type: 'text', text: 'a' },
            ],
          },
          { role: 'user', content: 'more' },
        ],
      }),
    );
    expect(error).toMatchObject({ kind: 'invalid_request', status: 400, retryable: false });
  });

  it('stops at max tokens with finish length', async () => {
    const { events } = await run(ask('hi', { maxTokens: 3 }));
    expect(events).toEqual([
      { type: 'text_delta', text: 'You' },
      { type: 'text_delta', text: ' said:' },
      { type: 'usage', usage: { input: 1, output: 3, cached: 0, reasoning: 0, costUsd: 0 } },
      { type: 'finish', reason: 'length' },
    ]);
  });
});

describe('faults through the adapter', () => {
  it('rate_limit is rate_limited with the retry-after delay', async () => {
    expect((await run(withFault('rate_limit'))).error).toMatchObject({
      kind: 'rate_limited',
      status: 429,
      retryable: true,
      retryAfterMs: 1000,
    });
  });

  it.each([
    ['overloaded', 'overloaded', 529],
    ['server_error', 'server', 500],
    ['unavailable', 'overloaded', 503],
  ])('%s is %s', async (fault, kind, status) => {
    expect((await run(withFault(fault))).error).toMatchObject({ kind, status, retryable: true });
  });

  it('context_overflow names the context limit', async () => {
    expect((await run(withFault('context_overflow'))).error).toMatchObject({
      kind: 'context_overflow',
      status: 400,
      contextLimit: 200_000,
      retryable: false,
    });
  });

  it('a refused key is auth', async () => {
    const refused = anthropicAdapter({ apiKey: 'sk-ant-invalid', baseURL: sim.url });
    const request = ask('hi');
    const error = await refused.open(request, new AbortController().signal).then(
      () => undefined,
      (e: unknown) => refused.mapError(e),
    );
    expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
  });

  it('stream_error after some text is overloaded, with the text already translated', async () => {
    const { events, error } = await run(withFault('stream_error'));
    expect(events).toEqual(words('You said: hi'));
    expect(error).toEqual({ kind: 'overloaded', message: 'Overloaded', retryable: true });
  });

  it('cut is a network error', async () => {
    const { events, error } = await run(withFault('cut'));
    expect(error).toMatchObject({ kind: 'network', retryable: true });
    expect(events.some((e) => e.type === 'finish')).toBe(false);
  });

  it('truncated_tool_json closes the call with a failed parse and finishes tool_calls', async () => {
    const { events, error } = await run(withFault('truncated_tool_json', { tools }));
    expect(error).toBeUndefined();
    const end = events.find((e) => e.type === 'tool_call_end');
    expect(end).toMatchObject({ name: 'read_file', parsed: { ok: false } });
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it('hang can be aborted', async () => {
    const started = performance.now();
    const { error } = await run(withFault('hang'), AbortSignal.timeout(100));
    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('an abort mid-stream ends the iteration promptly as aborted', async () => {
    const controller = new AbortController();
    const request = withFault('slow_drip', {
      headers: { 'x-tern-sim-fault': 'slow_drip', 'x-tern-sim-drip-ms': '500' },
    });
    const state = adapter.createState(request);
    const events: LlmEvent[] = [];
    const chunks = await adapter.open(request, controller.signal);
    let abortedAt = 0;
    let error: LlmError | undefined;
    try {
      for await (const chunk of chunks) {
        adapter.translate(chunk, state, events);
        if (events.length > 0 && abortedAt === 0) {
          abortedAt = performance.now();
          controller.abort();
        }
      }
      adapter.end(state, events);
    } catch (thrown) {
      error = adapter.mapError(thrown);
    }
    expect(events).toEqual([{ type: 'text_delta', text: 'You' }]);
    expect(error).toMatchObject({ kind: 'aborted' });
    expect(performance.now() - abortedAt).toBeLessThan(200);
  });
});

describe('through the stream driver', () => {
  const noRetry = { ...defaultRetryPolicy, maxAttempts: 1 };
  const collect = async (stream: AsyncIterable<LlmEvent>) => {
    const events: LlmEvent[] = [];
    for await (const event of stream) events.push(event);
    return events;
  };

  it('opens with start and ends with a timed finish', async () => {
    const events = await collect(driveStream(adapter)(ask('hi', { maxTokens: 3 })));
    expect(events.map((e) => e.type)).toEqual([
      'start',
      'text_delta',
      'text_delta',
      'usage',
      'finish',
    ]);
    expect(events.at(-1)).toMatchObject({ reason: 'length', timing: { attempts: 1 } });
  });

  it('ends an aborted stream with finish aborted, not a network error', async () => {
    const controller = new AbortController();
    const request = withFault('slow_drip', {
      headers: { 'x-tern-sim-fault': 'slow_drip', 'x-tern-sim-drip-ms': '200' },
      signal: controller.signal,
    });
    const events: LlmEvent[] = [];
    for await (const event of driveStream(adapter, { retry: noRetry })(request)) {
      events.push(event);
      if (event.type === 'text_delta') controller.abort();
    }
    expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'aborted' });
  });

  it("retries a rate limit after the sim's retry-after, then reports it", async () => {
    const delays: number[] = [];
    const drive = driveStream(adapter, {
      retry: { ...defaultRetryPolicy, maxAttempts: 2 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const events = await collect(drive(withFault('rate_limit')));
    expect(events.map((e) => e.type)).toEqual(['start', 'retry', 'finish']);
    expect(delays).toEqual([1000]);
    expect(events.at(-1)).toMatchObject({
      reason: 'error',
      error: { kind: 'rate_limited', retryAfterMs: 1000 },
    });
  });
});
