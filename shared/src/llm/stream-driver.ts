import type { CallLimiter, CallPermit } from './call-limiter.ts';
import { CapacityWaitError } from './capacity-wait-error.ts';
import { prepareHistory } from './cross-provider-history.ts';
import { makeLlmError } from './http-error-kind.ts';
import type { CallTiming, LlmError, LlmEvent, LlmRequest, StreamFn } from './llm-types.ts';
import { costOf, type ModelPrice, priceOf } from './model-prices.ts';
import { estimatePromptTokens } from './prompt-estimate.ts';
import { defaultRetryPolicy, nextRetryDelay, type RetryPolicy } from './retry-policy.ts';
import { StreamFailure } from './stream-failure.ts';
import { ToolSchemaValidator } from './tool-schema-validator.ts';
import type { WireAdapter } from './wire-adapter.ts';

export type DriverOptions = {
  retry?: RetryPolicy;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Provider capacity, asked before each attempt; without one, calls go out at once. */
  limiter?: CallLimiter;
};

/** One API key or replica of a provider, by a stable id that names no secret. */
export type DriverEndpoint<Chunk, State> = { id: string; adapter: WireAdapter<Chunk, State> };

/** A provider's endpoints, and a round robin over them for calls that no limiter places. */
type Endpoints<Chunk, State> = {
  list: readonly DriverEndpoint<Chunk, State>[];
  ids: readonly string[];
  next(): DriverEndpoint<Chunk, State>;
};

type Resolved = {
  policy: RetryPolicy;
  now: () => number;
  random: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  validator: ToolSchemaValidator;
  limiter: CallLimiter | undefined;
};

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Turns a wire adapter into a StreamFn: the one place where every provider gets the same start
 * event, retry policy, abort and timeout handling, tool-argument validation, cost and timing,
 * and, with a limiter, the provider's capacity. Given several endpoints of one provider (keys
 * or replicas), each attempt goes to the one the limiter picks, or to the next in turn.
 */
export function driveStream<Chunk, State>(
  target: WireAdapter<Chunk, State> | readonly DriverEndpoint<Chunk, State>[],
  options: DriverOptions = {},
): StreamFn {
  const resolved: Resolved = {
    policy: options.retry ?? defaultRetryPolicy,
    now: options.now ?? (() => performance.now()),
    random: options.random ?? Math.random,
    sleep: options.sleep ?? abortableSleep,
    validator: new ToolSchemaValidator(),
    limiter: options.limiter,
  };
  const list = Array.isArray(target)
    ? (target as readonly DriverEndpoint<Chunk, State>[])
    : [{ id: 'default', adapter: target as WireAdapter<Chunk, State> }];
  if (list.length === 0) throw new Error('driveStream needs at least one endpoint');
  let turn = 0;
  const endpoints: Endpoints<Chunk, State> = {
    list,
    ids: list.map((e) => e.id),
    next: () => list[turn++ % list.length]!,
  };
  return (request) => new DrivenStream(endpoints, resolved, request);
}

const DONE: IteratorResult<LlmEvent> = { value: undefined, done: true };
const STOPPED = new Error('the stream was closed by its consumer');

/**
 * The stream of one call, as a hand-written async iterator rather than an async generator: events
 * translated from one chunk are handed out from a queue as already-resolved promises, so the
 * normalised stream costs about one promise per event over the SDK's own iteration (an async
 * generator's `yield` costs several microtask turns per event, which is most of a layer's
 * overhead on a long stream).
 */
class DrivenStream<Chunk, State> implements AsyncIterableIterator<LlmEvent> {
  readonly #endpoints: Endpoints<Chunk, State>;
  /** The endpoint of the current attempt (all of a provider's adapters translate alike). */
  #adapter: WireAdapter<Chunk, State>;
  #endpoint: string | undefined;
  #permit: CallPermit | undefined;
  #promptTokens: number | undefined;
  #usedTokens: number | undefined;
  /** A cooldown this call started, which its next attempt must not overtake. */
  #coolingDown: Promise<void> | undefined;
  readonly #deps: Resolved;
  readonly #request: LlmRequest;
  readonly #controller = new AbortController();
  readonly #started: number;
  readonly #price: ModelPrice | undefined;
  #queue: LlmEvent[] = [];
  #head = 0;
  #phase: 'start' | 'open' | 'streaming' | 'done' = 'start';
  #chunks: AsyncIterator<Chunk> | undefined;
  #state!: State;
  #attempt = 0;
  #ttftMs: number | undefined;
  #timedOut = false;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #pendingDelay = 0;
  readonly #onAbort = () => this.#controller.abort(this.#request.signal?.reason);

  constructor(endpoints: Endpoints<Chunk, State>, deps: Resolved, original: LlmRequest) {
    this.#endpoints = endpoints;
    const adapter = endpoints.list[0]!.adapter;
    this.#adapter = adapter;
    this.#deps = deps;
    this.#started = deps.now();
    const history = prepareHistory(original.messages, adapter.provider);
    this.#request = history === original.messages ? original : { ...original, messages: history };
    this.#price = priceOf(adapter.provider, original.model);
    const signal = original.signal;
    if (signal) {
      if (signal.aborted) this.#controller.abort(signal.reason);
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    if (original.timeoutMs !== undefined) {
      this.#deadline = setTimeout(() => {
        this.#timedOut = true;
        this.#controller.abort();
      }, original.timeoutMs);
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<LlmEvent>> {
    if (this.#head < this.#queue.length) {
      return Promise.resolve({ value: this.#queue[this.#head++]!, done: false });
    }
    switch (this.#phase) {
      case 'streaming':
        return this.#pull();
      case 'start':
        this.#phase = 'open';
        return Promise.resolve({
          value: { type: 'start', model: this.#request.model },
          done: false,
        });
      case 'open':
        return this.#open();
      default:
        return Promise.resolve(DONE);
    }
  }

  /** The consumer stopped early: end the HTTP request and release everything. */
  return(): Promise<IteratorResult<LlmEvent>> {
    if (this.#phase !== 'done') this.#finishUp(true);
    return Promise.resolve(DONE);
  }

  #pull(): Promise<IteratorResult<LlmEvent>> {
    return this.#chunks!.next().then(
      (result) => this.#afterChunk(result),
      (error) => this.#fail(error),
    );
  }

  /**
   * Returns the first event of a chunk as a plain result, not a promise: resolving a `then` with
   * another promise would cost the consumer two more microtask turns per event.
   */
  #afterChunk(
    result: IteratorResult<Chunk>,
  ): IteratorResult<LlmEvent> | Promise<IteratorResult<LlmEvent>> {
    this.#queue.length = 0;
    this.#head = 0;
    try {
      if (result.done) this.#end();
      else this.#translate(result.value);
    } catch (error) {
      return this.#fail(error);
    }
    if (this.#head < this.#queue.length) return { value: this.#queue[this.#head++]!, done: false };
    return this.next();
  }

  async #open(): Promise<IteratorResult<LlmEvent>> {
    if (this.#pendingDelay > 0) {
      await this.#deps.sleep(this.#pendingDelay, this.#controller.signal);
      this.#pendingDelay = 0;
    }
    const limiter = this.#deps.limiter;
    if (limiter) {
      if (this.#coolingDown) await this.#coolingDown;
      const refused = await this.#reserve(limiter);
      if (refused) {
        this.#finishUp(true);
        throw refused;
      }
      if (this.#controller.signal.aborted) return this.#fail(STOPPED);
    } else this.#use(this.#endpoints.next());
    this.#attempt += 1;
    this.#usedTokens = undefined;
    this.#state = this.#adapter.createState(this.#request);
    try {
      const chunks = await this.#adapter.open(this.#request, this.#controller.signal);
      this.#chunks = chunks[Symbol.asyncIterator]();
    } catch (error) {
      return this.#fail(error);
    }
    this.#phase = 'streaming';
    return this.#pull();
  }

  /**
   * Capacity for the next attempt. A grant reserved ahead is waited for with one timer, and asked
   * again only when a cooldown began during the wait; a refusal (the wait would be too long) is
   * returned, for the consumer to hand the call back.
   */
  async #reserve(limiter: CallLimiter): Promise<CapacityWaitError | undefined> {
    const signal = this.#controller.signal;
    const { model, maxTokens } = this.#request;
    this.#promptTokens ??= estimatePromptTokens(this.#request);
    const provider = this.#adapter.provider;
    for (;;) {
      const decision = await limiter.acquire(
        {
          provider,
          model,
          endpoints: this.#endpoints.ids,
          promptTokens: this.#promptTokens,
          ...(maxTokens === undefined ? {} : { maxOutputTokens: maxTokens }),
        },
        signal,
      );
      if (!decision.granted) {
        if (signal.aborted || decision.reason === 'aborted') return undefined;
        return new CapacityWaitError(provider, decision.retryAfterMs, decision.reason);
      }
      const { permit, waitMs } = decision;
      if (waitMs > 0 && !signal.aborted) await this.#deps.sleep(waitMs, signal);
      if (signal.aborted) {
        permit.cancel();
        return undefined;
      }
      if (waitMs > 0 && (await permit.coolingMs()) > 0) {
        permit.cancel();
        continue;
      }
      this.#permit = permit;
      this.#use(
        this.#endpoints.list.find((e) => e.id === decision.endpoint) ?? this.#endpoints.list[0]!,
      );
      return undefined;
    }
  }

  #use(endpoint: DriverEndpoint<Chunk, State>): void {
    this.#adapter = endpoint.adapter;
    this.#endpoint = endpoint.id;
  }

  /** The attempt is over: its capacity is settled against what it really used. */
  #settle(): void {
    const permit = this.#permit;
    if (!permit) return;
    this.#permit = undefined;
    // Without reported usage, an attempt that produced nothing is taken to have cost nothing
    // (refused, or failed before any output); one that streamed keeps its estimate.
    permit.settle(this.#usedTokens ?? (this.#ttftMs === undefined ? 0 : undefined));
  }

  /** A refusal for load (429, 529) cools the endpoint down for every worker, not only this call. */
  #coolDown(failure: LlmError): boolean {
    const limiter = this.#deps.limiter;
    if (!limiter || this.#endpoint === undefined || this.#controller.signal.aborted) return false;
    if (failure.kind !== 'rate_limited' && failure.kind !== 'overloaded') return false;
    this.#coolingDown = limiter.cooldown({
      provider: this.#adapter.provider,
      endpoint: this.#endpoint,
      reason: failure.kind,
      ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
    });
    return true;
  }

  #translate(chunk: Chunk): void {
    const queue = this.#queue;
    this.#adapter.translate(chunk, this.#state, queue);
    for (let i = 0; i < queue.length; i++) {
      const event = queue[i]!;
      if (
        this.#ttftMs === undefined &&
        (event.type === 'text_delta' ||
          event.type === 'reasoning_delta' ||
          event.type === 'tool_call_start')
      ) {
        this.#ttftMs = this.#deps.now() - this.#started;
      }
      if (event.type === 'tool_call_end' || event.type === 'usage') queue[i] = this.#refine(event);
    }
  }

  #end(): void {
    const queue = this.#queue;
    this.#adapter.end(this.#state, queue);
    let finished = false;
    for (let i = 0; i < queue.length; i++) {
      const event = queue[i]!;
      if (event.type === 'finish') {
        queue[i] = { ...event, timing: this.#timing() };
        finished = true;
      } else queue[i] = this.#refine(event);
    }
    if (!finished) {
      throw new StreamFailure(
        makeLlmError('malformed_response', 'the adapter ended without a finish event'),
      );
    }
    this.#finishUp(false);
  }

  /** A failure: retried when nothing was streamed yet and the policy allows, else terminal. */
  #fail(error: unknown): Promise<IteratorResult<LlmEvent>> {
    const signal = this.#controller.signal;
    // An aborted call is reported as such whatever the SDK did about it: some end their
    // iteration quietly on abort, which would otherwise read as a stream cut short.
    const failure: LlmError = signal.aborted
      ? this.#timedOut
        ? makeLlmError('timeout', `no complete answer within ${this.#request.timeoutMs} ms`)
        : makeLlmError('aborted', 'the request was aborted')
      : error instanceof StreamFailure
        ? error.error
        : this.#adapter.mapError(error);
    const cooling = this.#coolDown(failure);
    // Output already streamed to the caller cannot be taken back, so only a failure before any
    // content is retried.
    const delay =
      this.#ttftMs === undefined && !signal.aborted
        ? nextRetryDelay(this.#deps.policy, failure, this.#attempt, this.#deps.random)
        : undefined;
    this.#queue = [];
    this.#head = 0;
    if (delay === undefined) {
      this.#queue.push({
        type: 'finish',
        reason: failure.kind === 'aborted' ? 'aborted' : 'error',
        error: failure,
        timing: this.#timing(),
      });
      this.#finishUp(true);
    } else {
      this.#settle();
      this.#chunks?.return?.()?.catch?.(() => {});
      this.#chunks = undefined;
      this.#queue.push({ type: 'retry', attempt: this.#attempt, delayMs: delay, error: failure });
      // With a limiter, the next attempt's wait comes from the cooldown just started, and it may
      // go to another endpoint that is not cooling down at all.
      this.#pendingDelay = cooling ? 0 : delay;
      this.#phase = 'open';
    }
    return this.next();
  }

  #refine(event: LlmEvent): LlmEvent {
    if (event.type === 'usage') this.#usedTokens = event.usage.input + event.usage.output;
    if (event.type === 'tool_call_end' && event.parsed.ok) {
      const checked = this.#deps.validator.check(
        this.#request.tools,
        event.name,
        event.parsed.args,
      );
      return checked.ok ? event : { ...event, parsed: checked };
    }
    if (event.type === 'usage' && this.#price) {
      return {
        type: 'usage',
        usage: { ...event.usage, costUsd: costOf(this.#price, event.usage) },
      };
    }
    return event;
  }

  #timing(): CallTiming {
    const durationMs = this.#deps.now() - this.#started;
    return this.#ttftMs === undefined
      ? { durationMs, attempts: this.#attempt }
      : { ttftMs: this.#ttftMs, durationMs, attempts: this.#attempt };
  }

  /** `abort`: the call did not complete, so its HTTP request is cancelled. */
  #finishUp(abort: boolean): void {
    this.#phase = 'done';
    this.#settle();
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#request.signal?.removeEventListener('abort', this.#onAbort);
    if (!abort) return;
    // A shared reason: `abort()` without one builds a DOMException with a stack on every call.
    if (!this.#controller.signal.aborted) this.#controller.abort(STOPPED);
    this.#chunks?.return?.()?.catch?.(() => {});
  }
}
