import { describe, expect, it } from 'vitest';
import { InMemoryCallLimiter } from '../ratelimit/in-memory-call-limiter.ts';
import { providerLimitsSchema } from '../ratelimit/provider-limits.ts';
import type { CallLimiter } from './call-limiter.ts';
import { CapacityWaitError } from './capacity-wait-error.ts';
import { makeLlmError } from './http-error-kind.ts';
import type { LlmError, LlmEvent, LlmRequest } from './llm-types.ts';
import { driveStream } from './stream-driver.ts';
import { StreamFailure } from './stream-failure.ts';
import type { WireAdapter } from './wire-adapter.ts';

// The stream driver with a provider limiter: waits, hand-backs, cooldowns and the spread over
// endpoints, on the in-memory limiter (the Redis one is held to the same arithmetic).

type Reply = { fail?: LlmError; usage?: number };

/** One endpoint: answers each call with the next reply (default: "ok" and its usage). */
function endpoint(id: string, replies: Reply[] = []) {
  const calls: string[] = [];
  const adapter: WireAdapter<LlmEvent, object> = {
    provider: 'openai',
    async open() {
      const reply = replies[calls.length] ?? {};
      calls.push(id);
      if (reply.fail) throw new StreamFailure(reply.fail);
      const events: LlmEvent[] = [{ type: 'text_delta', text: 'ok' }];
      if (reply.usage !== undefined) {
        events.push({
          type: 'usage',
          usage: { input: reply.usage, output: 0, cached: 0, reasoning: 0, costUsd: 0 },
        });
      }
      return (async function* () {
        yield* events;
      })();
    },
    createState: () => ({}),
    translate: (chunk, _state, out) => void out.push(chunk),
    end: (_state, out) => void out.push({ type: 'finish', reason: 'stop' }),
    mapError: (error) => makeLlmError('network', String(error)),
  };
  return { id, adapter, calls };
}

/** A clock that only the driver's sleeps move, so waits are exact. */
function clock() {
  const state = { now: 0, slept: [] as number[] };
  return {
    state,
    now: () => state.now,
    sleep: async (ms: number, signal: AbortSignal) => {
      state.slept.push(ms);
      if (!signal.aborted) state.now += ms;
    },
  };
}

const request = (extra: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'gpt-4.1',
  messages: [{ role: 'user', content: 'x'.repeat(400) }],
  maxTokens: 100,
  ...extra,
});

async function collect(stream: AsyncIterable<LlmEvent>): Promise<LlmEvent[]> {
  const events: LlmEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

const limits = (value: unknown) => providerLimitsSchema.parse(value);

describe('driveStream with a provider limiter', () => {
  it('waits once for reserved capacity, then sends', async () => {
    const t = clock();
    const waits: number[] = [];
    const limiter = new InMemoryCallLimiter({
      limits: limits({ openai: { requestsPerMinute: 60, requestBurst: 1 } }),
      maxWaitMs: 2000,
      now: t.now,
      hooks: { onWait: (_p, _m, ms) => void waits.push(ms) },
    });
    const a = endpoint('a');
    const stream = driveStream([a], { limiter, sleep: t.sleep, now: t.now });
    await collect(stream(request()));
    const events = await collect(stream(request()));
    expect(t.state.slept).toEqual([1000]);
    expect(waits).toEqual([1000]);
    expect(a.calls).toEqual(['a', 'a']);
    expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'stop' });
  });

  it('hands a call back, unsent, when the wait is longer than a worker should hold it', async () => {
    const t = clock();
    const limiter = new InMemoryCallLimiter({
      limits: limits({ openai: { requestsPerMinute: 60, requestBurst: 1 } }),
      maxWaitMs: 500,
      now: t.now,
    });
    const a = endpoint('a');
    const stream = driveStream([a], { limiter, sleep: t.sleep, now: t.now });
    await collect(stream(request()));
    const seen: LlmEvent[] = [];
    const error = await (async () => {
      for await (const e of stream(request())) seen.push(e);
    })().catch((e: unknown) => e);
    expect(CapacityWaitError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'capacity_wait', retryAfterMs: 1000 });
    expect(seen.map((e) => e.type)).toEqual(['start']);
    expect(a.calls).toEqual(['a']);
    expect(t.state.slept).toEqual([]);
  });

  it('ends at once on abort during the wait and gives the reservation back', async () => {
    const limiter = new InMemoryCallLimiter({
      limits: limits({ openai: { requestsPerMinute: 60, requestBurst: 1 } }),
      maxWaitMs: 5000,
      now: () => 0,
    });
    const a = endpoint('a');
    const controller = new AbortController();
    const stream = driveStream([a], {
      limiter,
      sleep: async () => controller.abort(),
      now: () => 0,
    });
    await collect(stream(request()));
    const events = await collect(stream(request({ signal: controller.signal })));
    expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'aborted' });
    expect(a.calls).toEqual(['a']);
    // The aborted call's slot in the bucket went back: the next one waits one interval, not two.
    const next = await limiter.acquire(
      { provider: 'openai', model: 'gpt-4.1', endpoints: ['a'], promptTokens: 1 },
      new AbortController().signal,
    );
    expect(next).toMatchObject({ granted: true, waitMs: 1000 });
  });

  it('cools a refusing key down for everyone and retries on another key at once', async () => {
    const t = clock();
    const cooldowns: [string, number, string][] = [];
    const limiter = new InMemoryCallLimiter({
      limits: limits({}),
      maxWaitMs: 2000,
      now: t.now,
      hooks: { onCooldown: (...args) => void cooldowns.push(args) },
    });
    const refused = makeLlmError('rate_limited', 'slow down', { status: 429, retryAfterMs: 7000 });
    const a = endpoint('a', [{ fail: refused }]);
    const b = endpoint('b');
    const stream = driveStream([a, b], { limiter, sleep: t.sleep, now: t.now });
    const events = await collect(stream(request()));
    expect(events.map((e) => e.type)).toEqual(['start', 'retry', 'text_delta', 'finish']);
    expect([...a.calls, ...b.calls]).toEqual(['a', 'b']);
    expect(t.state.slept).toEqual([]);
    expect(cooldowns).toEqual([['openai', 7000, 'rate_limited']]);
    // Every later call avoids the cooling key until its retry-after is over.
    await collect(stream(request()));
    await collect(stream(request()));
    expect(a.calls).toEqual(['a']);
  });

  it('does not send its retry before its own cooldown is in place', async () => {
    const order: string[] = [];
    const t = clock();
    const inner = new InMemoryCallLimiter({ limits: limits({}), maxWaitMs: 2000, now: t.now });
    // A store slower to record the cooldown than to answer the next request for capacity.
    const limiter: CallLimiter = {
      acquire: (request, signal) => {
        order.push('acquire');
        return inner.acquire(request, signal);
      },
      cooldown: async (notice) => {
        await new Promise((r) => setTimeout(r, 30));
        order.push('cooldown');
        await inner.cooldown(notice);
      },
    };
    const refused = makeLlmError('overloaded', 'busy', { status: 529, retryAfterMs: 1 });
    const a = endpoint('a', [{ fail: refused }]);
    await collect(driveStream([a], { limiter, sleep: t.sleep, now: t.now })(request()));
    expect(order).toEqual(['acquire', 'cooldown', 'acquire']);
    expect(t.state.slept).toEqual([1]);
  });

  it('asks again when a cooldown began during its wait', async () => {
    const t = clock();
    const limiter = new InMemoryCallLimiter({
      limits: limits({ openai: { requestsPerMinute: 60, requestBurst: 1 } }),
      maxWaitMs: 5000,
      now: t.now,
    });
    const a = endpoint('a');
    let cooled = false;
    const stream = driveStream([a], {
      limiter,
      now: t.now,
      sleep: async (ms, signal) => {
        if (!cooled) {
          cooled = true;
          await limiter.cooldown({
            provider: 'openai',
            endpoint: 'a',
            retryAfterMs: 3000,
            reason: 'rate_limited',
          });
        }
        await t.sleep(ms, signal);
      },
    });
    await collect(stream(request()));
    await collect(stream(request()));
    // 1 s for the bucket, during which a 3 s cooldown began; then the 2 s left of it.
    expect(t.state.slept).toEqual([1000, 2000]);
    expect(a.calls).toEqual(['a', 'a']);
  });

  it("settles the token bucket with the call's real usage", async () => {
    const limiter = new InMemoryCallLimiter({
      limits: limits({ openai: { tokensPerMinute: 60_000, tokenBurst: 1000 } }),
      maxWaitMs: 0,
      now: () => 0,
    });
    // Estimated 100 + 100 tokens, used 50: 950 left, so a 900-token call goes now.
    const a = endpoint('a', [{ usage: 50 }]);
    await collect(driveStream([a], { limiter, now: () => 0 })(request()));
    const big = await limiter.acquire(
      {
        provider: 'openai',
        model: 'gpt-4.1',
        endpoints: ['a'],
        promptTokens: 800,
        maxOutputTokens: 100,
      },
      new AbortController().signal,
    );
    expect(big).toMatchObject({ granted: true, waitMs: 0 });
  });

  it('takes endpoints in turn when no limiter places the calls', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const stream = driveStream([a, b], { sleep: async () => {} });
    for (let i = 0; i < 4; i++) await collect(stream(request()));
    expect(a.calls.length).toBe(2);
    expect(b.calls.length).toBe(2);
  });
});
