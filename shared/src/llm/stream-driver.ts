import { prepareHistory } from './cross-provider-history.ts';
import { makeLlmError } from './http-error-kind.ts';
import type { CallTiming, LlmError, LlmEvent, LlmRequest, StreamFn } from './llm-types.ts';
import { costOf, priceOf } from './model-prices.ts';
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
 * It is a single async generator over the SDK's chunk iterator, so the normalised stream costs one
 * extra `yield` per event over the raw SDK and nothing more.
 */
export function driveStream<Chunk, State>(
  adapter: WireAdapter<Chunk, State>,
  options: DriverOptions = {},
): StreamFn {
  const policy = options.retry ?? defaultRetryPolicy;
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const validator = new ToolSchemaValidator();

  return async function* drive(original: LlmRequest): AsyncGenerator<LlmEvent> {
    const started = now();
    const history = prepareHistory(original.messages, adapter.provider);
    const request = history === original.messages ? original : { ...original, messages: history };
    // Our own controller, linked to the caller's signal and deadline, so that a consumer that
    // stops iterating also ends the HTTP request (the generator's `finally` aborts it).
    const controller = new AbortController();
    const onAbort = () => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) controller.abort(request.signal.reason);
    let timedOut = false;
    const deadline =
      request.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, request.timeoutMs);
    const signal = controller.signal;
    const price = priceOf(adapter.provider, request.model);
    let ttftMs: number | undefined;
    let attempt = 0;
    const timing = (): CallTiming =>
      ttftMs === undefined
        ? { durationMs: now() - started, attempts: attempt }
        : { ttftMs, durationMs: now() - started, attempts: attempt };

    yield { type: 'start', model: request.model };
    try {
      for (;;) {
        attempt += 1;
        const state = adapter.createState(request);
        const out: LlmEvent[] = [];
        let failure: LlmError | undefined;
        let finished = false;
        try {
          const chunks = await adapter.open(request, signal);
          for await (const chunk of chunks) {
            adapter.translate(chunk, state, out);
            for (let i = 0; i < out.length; i++) {
              const event = out[i]!;
              if (ttftMs === undefined && isContent(event)) ttftMs = now() - started;
              yield refine(event);
            }
            out.length = 0;
          }
          adapter.end(state, out);
          for (const event of out) {
            if (event.type === 'finish') {
              finished = true;
              yield { ...event, timing: timing() };
            } else yield refine(event);
          }
          if (finished) return;
          failure = makeLlmError('malformed_response', 'the adapter ended without a finish event');
        } catch (error) {
          failure =
            error instanceof StreamFailure
              ? error.error
              : signal.aborted
                ? timedOut
                  ? makeLlmError('timeout', `no complete answer within ${request.timeoutMs} ms`)
                  : makeLlmError('aborted', 'the request was aborted')
                : adapter.mapError(error);
        }
        // Output already streamed to the caller cannot be taken back, so only a failure before
        // any content is retried here.
        const delay =
          ttftMs === undefined && !signal.aborted
            ? nextRetryDelay(policy, failure, attempt, random)
            : undefined;
        if (delay === undefined) {
          yield {
            type: 'finish',
            reason: failure.kind === 'aborted' ? 'aborted' : 'error',
            error: failure,
            timing: timing(),
          };
          return;
        }
        yield { type: 'retry', attempt, delayMs: delay, error: failure };
        await sleep(delay, signal);
      }
    } finally {
      if (deadline) clearTimeout(deadline);
      request.signal?.removeEventListener('abort', onAbort);
      if (!signal.aborted) controller.abort();
    }

    function refine(event: LlmEvent): LlmEvent {
      if (event.type === 'tool_call_end' && event.parsed.ok) {
        const checked = validator.check(request.tools, event.name, event.parsed.args);
        return checked.ok ? event : { ...event, parsed: checked };
      }
      if (event.type === 'usage' && price) {
        return { type: 'usage', usage: { ...event.usage, costUsd: costOf(price, event.usage) } };
      }
      return event;
    }
  };
}

function isContent(event: LlmEvent): boolean {
  return (
    event.type === 'text_delta' ||
    event.type === 'reasoning_delta' ||
    event.type === 'tool_call_start'
  );
}
