import type { LlmEvent, LlmRequest, StreamFn } from '@tern/shared/llm/llm-types';
import type { Usage } from '@tern/shared/session/log-entry';

export type ScriptedCall = { id: string; name: string; args: string | Record<string, unknown> };

/**
 * One scripted model response: text, tool calls, an error finish, or a stream that sends its
 * text and then hangs until the request is aborted. `usage` replaces the default usage.
 */
export type ScriptedStep = (
  | { text: string; hang?: boolean }
  | { calls: ScriptedCall[]; text?: string }
  | {
      error: {
        kind: 'rate_limited' | 'server' | 'context_overflow' | 'invalid_request';
        message: string;
      };
    }
) & { usage?: Partial<Usage> };

const defaultUsage: Usage = { input: 10, output: 5, cached: 0, reasoning: 0, costUsd: 0.001 };

/**
 * An in-process model that plays a script, one step per call, and records what it was asked.
 * A step may be a function of the request. Honours the request's abort signal like a real
 * stream: it ends with an `aborted` finish. For the loop's own tests and benchmarks; provider
 * wire formats are tested against sim/.
 */
export function scriptedModel(
  steps: (ScriptedStep | ((request: LlmRequest) => ScriptedStep))[],
): StreamFn & { requests: LlmRequest[] } {
  const requests: LlmRequest[] = [];
  let next = 0;
  const fn = (request: LlmRequest): AsyncIterable<LlmEvent> => {
    requests.push(request);
    const step = steps[next++] ?? { text: '(script exhausted)' };
    return play(typeof step === 'function' ? step(request) : step, request.signal);
  };
  return Object.assign(fn, { requests });
}

async function* play(
  step: ScriptedStep,
  signal: AbortSignal | undefined,
): AsyncGenerator<LlmEvent> {
  const aborted: LlmEvent = {
    type: 'finish',
    reason: 'aborted',
    error: { kind: 'aborted', message: 'the request was aborted', retryable: false },
  };
  yield { type: 'start', model: 'scripted' };
  if ('error' in step) {
    yield { type: 'finish', reason: 'error', error: { ...step.error, retryable: false } };
    return;
  }
  const text = step.text ?? '';
  for (const word of text.split(/(?= )/)) {
    if (signal?.aborted) return yield aborted;
    if (word) yield { type: 'text_delta', text: word };
  }
  if ('hang' in step && step.hang) {
    await new Promise<void>((resolve) => {
      if (signal?.aborted) resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    return yield aborted;
  }
  const calls = 'calls' in step ? step.calls : [];
  for (const call of calls) {
    if (signal?.aborted) return yield aborted;
    const raw = typeof call.args === 'string' ? call.args : JSON.stringify(call.args);
    yield { type: 'tool_call_start', id: call.id, name: call.name };
    yield { type: 'tool_call_delta', id: call.id, argsText: raw };
    let parsed: { ok: true; args: Record<string, unknown> } | { ok: false; message: string };
    try {
      parsed = { ok: true, args: JSON.parse(raw) };
    } catch {
      parsed = { ok: false, message: 'tool arguments are not valid JSON' };
    }
    yield { type: 'tool_call_end', id: call.id, name: call.name, rawArgs: raw, parsed };
  }
  yield { type: 'usage', usage: { ...defaultUsage, ...step.usage } };
  yield { type: 'finish', reason: calls.length > 0 ? 'tool_calls' : 'stop' };
}
