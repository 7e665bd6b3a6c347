import { prepareHistory } from './cross-provider-history.ts';
import { makeLlmError } from './http-error-kind.ts';
import type { CallTiming, LlmError, LlmEvent, LlmRequest, StreamFn } from './llm-types.ts';
import { costOf, type ModelPrice, priceOf } from './model-prices.ts';
import { defaultRetryPolicy, nextRetryDelay, type RetryPolicy } from './retry-policy.ts';
import { StreamFailure } from './stream-failure.ts';
import { ToolSchemaValidator } from './tool-schema-validator.ts';
import type { WireAdapter } from './wire-adapter.ts';

export type DriverOptions = {
  retry?: RetryPolicy;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
};

type Resolved = {
  policy: RetryPolicy;
  now: () => number;
  random: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  validator: ToolSchemaValidator;
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
 * event, retry policy, abort and timeout handling, tool-argument validation, cost and timing.
 */
export function driveStream<Chunk, State>(
  adapter: WireAdapter<Chunk, State>,
  options: DriverOptions = {},
): StreamFn {
  const resolved: Resolved = {
    policy: options.retry ?? defaultRetryPolicy,
    now: options.now ?? (() => performance.now()),
    random: options.random ?? Math.random,
    sleep: options.sleep ?? abortableSleep,
    validator: new ToolSchemaValidator(),
  };
  return (request) => new DrivenStream(adapter, resolved, request);
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
  readonly #adapter: WireAdapter<Chunk, State>;
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

  constructor(adapter: WireAdapter<Chunk, State>, deps: Resolved, original: LlmRequest) {
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
    this.#attempt += 1;
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
      this.#chunks?.return?.()?.catch?.(() => {});
      this.#chunks = undefined;
      this.#queue.push({ type: 'retry', attempt: this.#attempt, delayMs: delay, error: failure });
      this.#pendingDelay = delay;
      this.#phase = 'open';
    }
    return this.next();
  }

  #refine(event: LlmEvent): LlmEvent {
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
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#request.signal?.removeEventListener('abort', this.#onAbort);
    if (!abort) return;
    // A shared reason: `abort()` without one builds a DOMException with a stack on every call.
    if (!this.#controller.signal.aborted) this.#controller.abort(STOPPED);
    this.#chunks?.return?.()?.catch?.(() => {});
  }
}
