import { describe, expect, it } from 'vitest';
import { makeLlmError } from './http-error-kind.ts';
import type { LlmError, LlmEvent, LlmRequest } from './llm-types.ts';
import { driveStream } from './stream-driver.ts';
import { StreamFailure } from './stream-failure.ts';
import type { WireAdapter } from './wire-adapter.ts';

/** A wire whose chunks are already normalised events; each attempt plays the next script. */
type Attempt = { fail?: LlmError; chunks?: LlmEvent[]; failAfter?: LlmError; hang?: boolean };

function fakeWire(attempts: Attempt[]) {
  let n = 0;
  const opened: AbortSignal[] = [];
  const adapter: WireAdapter<LlmEvent, { done: boolean }> = {
    provider: 'openai',
    async open(_request, signal) {
      opened.push(signal);
      const attempt = attempts[n++] ?? {};
      if (attempt.fail) throw new StreamFailure(attempt.fail);
      return (async function* () {
        for (const chunk of attempt.chunks ?? []) yield chunk;
        if (attempt.hang) {
          await new Promise((_, reject) => {
            if (signal.aborted) reject(new Error('aborted'));
            signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
          });
        }
        if (attempt.failAfter) throw new StreamFailure(attempt.failAfter);
      })();
    },
    createState: () => ({ done: false }),
    translate: (chunk, state, out) => {
      if (chunk.type === 'finish') state.done = true;
      else out.push(chunk);
    },
    end: (state, out) => {
      if (!state.done) throw new StreamFailure(makeLlmError('network', 'cut'));
      out.push({ type: 'finish', reason: 'stop' });
    },
    mapError: (error) => makeLlmError('network', String(error)),
  };
  return { adapter, opened, attempts: () => n };
}

const noSleep = async () => {};
const request = (extra: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'gpt-4.1',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

async function collect(stream: AsyncIterable<LlmEvent>): Promise<LlmEvent[]> {
  const events: LlmEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

const text = (t: string): LlmEvent => ({ type: 'text_delta', text: t });
const done: LlmEvent = { type: 'finish', reason: 'stop' };

describe('driveStream', () => {
  it('starts, relays events and finishes with timing', async () => {
    const { adapter } = fakeWire([{ chunks: [text('a'), text('b'), done] }]);
    const events = await collect(driveStream(adapter, { sleep: noSleep })(request()));
    expect(events.map((e) => e.type)).toEqual(['start', 'text_delta', 'text_delta', 'finish']);
    const finish = events.at(-1) as Extract<LlmEvent, { type: 'finish' }>;
    expect(finish.timing).toMatchObject({ attempts: 1, ttftMs: expect.any(Number) });
  });

  it('retries a retryable failure before any output, honouring retry-after', async () => {
    const rateLimited = makeLlmError('rate_limited', 'slow down', { retryAfterMs: 1234 });
    const { adapter } = fakeWire([{ fail: rateLimited }, { chunks: [text('ok'), done] }]);
    const slept: number[] = [];
    const events = await collect(
      driveStream(adapter, { sleep: async (ms) => void slept.push(ms) })(request()),
    );
    expect(slept).toEqual([1234]);
    expect(events.map((e) => e.type)).toEqual(['start', 'retry', 'text_delta', 'finish']);
    expect(events[1]).toMatchObject({ type: 'retry', attempt: 1, delayMs: 1234 });
  });

  it('backs off with full jitter when the provider gave no retry-after', async () => {
    const server = makeLlmError('server', 'boom');
    const { adapter } = fakeWire([{ fail: server }, { fail: server }, { chunks: [done] }]);
    const slept: number[] = [];
    await collect(
      driveStream(adapter, { random: () => 0.5, sleep: async (ms) => void slept.push(ms) })(
        request(),
      ),
    );
    expect(slept).toEqual([250, 500]); // half of 500 ms, then half of 1000 ms
  });

  it('gives up after the last attempt with the error', async () => {
    const server = makeLlmError('server', 'boom');
    const { adapter, attempts } = fakeWire(Array(10).fill({ fail: server }));
    const events = await collect(driveStream(adapter, { sleep: noSleep })(request()));
    expect(attempts()).toBe(4);
    expect(events.at(-1)).toMatchObject({
      type: 'finish',
      reason: 'error',
      error: { kind: 'server' },
    });
  });

  it('never retries non-retryable errors', async () => {
    const { adapter, attempts } = fakeWire([{ fail: makeLlmError('auth', 'bad key') }]);
    const events = await collect(driveStream(adapter, { sleep: noSleep })(request()));
    expect(attempts()).toBe(1);
    expect(events.at(-1)).toMatchObject({
      reason: 'error',
      error: { kind: 'auth', retryable: false },
    });
  });

  it('does not retry once output was streamed, even for a retryable error', async () => {
    const { adapter, attempts } = fakeWire([
      { chunks: [text('partial')], failAfter: makeLlmError('overloaded', 'mid-stream') },
      { chunks: [text('again'), done] },
    ]);
    const events = await collect(driveStream(adapter, { sleep: noSleep })(request()));
    expect(attempts()).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['start', 'text_delta', 'finish']);
    expect(events.at(-1)).toMatchObject({ reason: 'error', error: { kind: 'overloaded' } });
  });

  it('retries a stream cut before any output', async () => {
    const { adapter, attempts } = fakeWire([{ chunks: [] }, { chunks: [text('x'), done] }]);
    const events = await collect(driveStream(adapter, { sleep: noSleep })(request()));
    expect(attempts()).toBe(2);
    expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'stop' });
  });

  it('ends with aborted when the caller aborts mid-stream, and aborts the HTTP request', async () => {
    const { adapter, opened } = fakeWire([{ chunks: [text('a')], hang: true }]);
    const controller = new AbortController();
    const events: LlmEvent[] = [];
    for await (const e of driveStream(adapter)(request({ signal: controller.signal }))) {
      events.push(e);
      if (e.type === 'text_delta') controller.abort();
    }
    expect(events.at(-1)).toMatchObject({
      type: 'finish',
      reason: 'aborted',
      error: { kind: 'aborted' },
    });
    expect(opened[0]?.aborted).toBe(true);
  });

  it('reports aborted even when the SDK ends its iteration quietly on abort', async () => {
    const adapter: WireAdapter<LlmEvent, { done: boolean }> = {
      provider: 'openai',
      async open(_request, signal) {
        return (async function* () {
          yield text('a');
          // Like some SDKs: on abort the iterator simply ends, without the terminal marker.
          await new Promise<void>((resolve) => {
            if (signal.aborted) resolve();
            signal.addEventListener('abort', () => resolve());
          });
        })();
      },
      createState: () => ({ done: false }),
      translate: (chunk, _state, out) => void out.push(chunk),
      end: () => {
        throw new StreamFailure(makeLlmError('network', 'cut short'));
      },
      mapError: (error) => makeLlmError('network', String(error)),
    };
    const controller = new AbortController();
    const events: LlmEvent[] = [];
    for await (const e of driveStream(adapter)(request({ signal: controller.signal }))) {
      events.push(e);
      if (e.type === 'text_delta') controller.abort();
    }
    expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'aborted' });
  });

  it('turns a per-call deadline into a retryable timeout', async () => {
    const { adapter } = fakeWire([{ hang: true }]);
    const events = await collect(
      driveStream(adapter, {
        retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
      })(request({ timeoutMs: 20 })),
    );
    expect(events.at(-1)).toMatchObject({
      reason: 'error',
      error: { kind: 'timeout', retryable: true },
    });
  });

  it('aborts the HTTP request when the consumer stops reading', async () => {
    const { adapter, opened } = fakeWire([{ chunks: [text('a'), text('b'), done] }]);
    for await (const e of driveStream(adapter)(request())) if (e.type === 'text_delta') break;
    expect(opened[0]?.aborted).toBe(true);
  });

  it('validates closed tool calls against the tool schema', async () => {
    const end = (args: Record<string, unknown>): LlmEvent => ({
      type: 'tool_call_end',
      id: 'c',
      name: 'read_file',
      rawArgs: JSON.stringify(args),
      parsed: { ok: true, args },
    });
    const { adapter } = fakeWire([{ chunks: [end({ path: 'a' }), end({ path: 3 }), done] }]);
    const tools = [
      {
        name: 'read_file',
        description: '',
        parameters: {
          type: 'object',
          properties: { path: { type: 'string' } },
          required: ['path'],
        },
      },
    ];
    const events = await collect(driveStream(adapter)(request({ tools })));
    const ends = events.filter((e) => e.type === 'tool_call_end');
    expect(ends[0]).toMatchObject({ parsed: { ok: true, args: { path: 'a' } } });
    expect(ends[1]).toMatchObject({
      parsed: { ok: false, message: expect.stringContaining('/path must be string') },
    });
  });

  it('prices usage from the price table', async () => {
    const usage: LlmEvent = {
      type: 'usage',
      usage: { input: 1_000_000, output: 1_000_000, cached: 500_000, reasoning: 0, costUsd: 0 },
    };
    const { adapter } = fakeWire([{ chunks: [usage, done] }]);
    const events = await collect(driveStream(adapter)(request({ model: 'gpt-4.1-mini' })));
    const priced = events.find((e) => e.type === 'usage') as Extract<LlmEvent, { type: 'usage' }>;
    // 0.5M uncached × $0.40 + 0.5M cached × $0.10 + 1M output × $1.60
    expect(priced.usage.costUsd).toBeCloseTo(0.2 + 0.05 + 1.6, 10);
  });
});
