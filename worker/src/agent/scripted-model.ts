import type { LlmEvent, LlmRequest, StreamFn } from '@tern/shared/llm/llm-types';

/** One scripted model response: text, tool calls, or an error finish. */
export type ScriptedStep =
  | { text: string }
  | { calls: { id: string; name: string; args: string }[]; text?: string }
  | { error: { kind: 'rate_limited' | 'server' | 'context_overflow'; message: string } };

/**
 * An in-process model that plays a script, one step per call, and records what it was asked.
 * For the loop's own tests and benchmarks; provider wire formats are tested against sim/.
 */
export function scriptedModel(steps: ScriptedStep[]): StreamFn & { requests: LlmRequest[] } {
  const requests: LlmRequest[] = [];
  let next = 0;
  const fn = (request: LlmRequest): AsyncIterable<LlmEvent> => {
    requests.push(request);
    const step = steps[next++] ?? { text: '(script exhausted)' };
    return play(step);
  };
  return Object.assign(fn, { requests });
}

async function* play(step: ScriptedStep): AsyncGenerator<LlmEvent> {
  yield { type: 'start', model: 'scripted' };
  if ('error' in step) {
    yield { type: 'finish', reason: 'error', error: { ...step.error, retryable: false } };
    return;
  }
  const text = step.text ?? '';
  for (const word of text.split(/(?= )/)) if (word) yield { type: 'text_delta', text: word };
  const calls = 'calls' in step ? step.calls : [];
  for (const call of calls) {
    yield { type: 'tool_call_start', id: call.id, name: call.name };
    yield { type: 'tool_call_delta', id: call.id, argsText: call.args };
    let parsed: { ok: true; args: Record<string, unknown> } | { ok: false; message: string };
    try {
      parsed = { ok: true, args: JSON.parse(call.args) };
    } catch {
      parsed = { ok: false, message: 'tool arguments are not valid JSON' };
    }
    yield { type: 'tool_call_end', id: call.id, name: call.name, rawArgs: call.args, parsed };
  }
  yield {
    type: 'usage',
    usage: { input: 10, output: 5, cached: 0, reasoning: 0, costUsd: 0.001 },
  };
  yield { type: 'finish', reason: calls.length > 0 ? 'tool_calls' : 'stop' };
}
