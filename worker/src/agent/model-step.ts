import type { LlmMessage, LlmRequest } from '@tern/shared/llm/llm-types';
import type { TurnOutcome } from './agent-types.ts';
import { compactContext } from './compact-context.ts';
import type { BeforeModelDecision } from './hook-types.ts';
import { addedContext, denial, type HookOutcome, runHooks } from './run-hooks.ts';
import { type ModelAnswer, streamAnswer } from './stream-answer.ts';
import { addUsage, type LogOf } from './turn-log.ts';
import { hookBase, hookEnv, stopCancelled, stopWithError, type TurnRun } from './turn-run.ts';

export type StepResult =
  | { kind: 'answer'; entry: LogOf<'assistant_message'>; answer: ModelAnswer }
  | { kind: 'ended'; outcome: TurnOutcome };

/**
 * One model call and its committed answer. On `context_overflow` the older context is
 * summarised and the call is tried once more; hooks may deny the call or the answer (the turn
 * then ends) or add to the request.
 */
export async function modelStep(run: TurnRun): Promise<StepResult> {
  const { io, input } = run;
  run.steps += 1;
  let compacted = false;
  for (;;) {
    run.machine.to('awaiting_model');
    let request = buildRequest(run);
    if (run.hooks.beforeModel.length > 0) {
      const outcomes = await runHooks(
        run.hooks.beforeModel,
        'before_model',
        {
          ...hookBase(run),
          request: { model: request.model, messages: request.messages, tools: run.toolSpecs },
        },
        hookEnv(run),
      );
      const denied = denial(outcomes);
      if (denied) {
        const message = `the model call was denied by hook ${denied.hook}: ${denied.reason}`;
        return ended(await stopWithError(run, 'error', 'hook_denied', message));
      }
      request = patchRequest(request, outcomes);
    }
    const answer = await streamAnswer(io, request, {
      turnId: input.turnId,
      live: true,
      onFirstOutput: () => run.machine.to('streaming'),
    });
    addUsage(run.usage, answer.usage);

    if (answer.reason === 'error' || answer.reason === 'aborted') {
      if (answer.streamed) discard(run, `the model call ended with ${answer.reason}`);
      if (run.signal.aborted || answer.reason === 'aborted') {
        return ended(
          await stopCancelled(
            run,
            'Cancelled while the model was answering; its partial answer was discarded.',
          ),
        );
      }
      const error = answer.error;
      if (error?.kind === 'context_overflow' && !compacted) {
        compacted = true;
        const compaction = await compactContext(run);
        if (compaction.ok) continue;
        const message = `${error.message} (compaction failed: ${compaction.message})`;
        return ended(await stopWithError(run, 'error', error.kind, message));
      }
      return ended(
        await stopWithError(
          run,
          'error',
          error?.kind ?? answer.reason,
          error?.message ?? 'the model call ended without an answer',
        ),
      );
    }

    if (run.hooks.afterModel.length > 0) {
      const outcomes = await runHooks(
        run.hooks.afterModel,
        'after_model',
        {
          ...hookBase(run),
          answer: {
            text: answer.text,
            toolCalls: answer.calls,
            usage: answer.usage,
            finishReason: answer.reason,
          },
        },
        hookEnv(run),
      );
      const denied = denial(outcomes);
      if (denied) {
        if (answer.streamed) discard(run, `the answer was denied by hook ${denied.hook}`);
        const message = `the model's answer was denied by hook ${denied.hook}: ${denied.reason}`;
        return ended(await stopWithError(run, 'error', 'hook_denied', message));
      }
      run.nextContext.push(...addedContext(outcomes));
    }

    const [entry] = await run.commit(
      [
        {
          kind: 'assistant_message',
          model: input.modelRef,
          text: answer.text,
          reasoning: answer.reasoning,
          ...(answer.reasoningMeta ? { reasoningMeta: answer.reasoningMeta } : {}),
          toolCalls: answer.calls,
          finishReason: answer.reason,
          usage: answer.usage,
          durationMs: answer.durationMs,
          ...(answer.ttftMs === undefined ? {} : { ttftMs: answer.ttftMs }),
        },
      ],
      answer.calls.length === 0,
    );
    return { kind: 'answer', entry: entry as LogOf<'assistant_message'>, answer };
  }
}

function ended(outcome: TurnOutcome): StepResult {
  return { kind: 'ended', outcome };
}

function discard(run: TurnRun, reason: string): void {
  run.io.emit({ type: 'stream_discarded', turnId: run.input.turnId, reason });
}

function buildRequest(run: TurnRun): LlmRequest {
  const { input } = run;
  let messages = run.prompt.build(run.log);
  if (run.nextContext.length > 0) {
    messages = withSystemText(messages, run.nextContext);
    run.nextContext = [];
  }
  return {
    model: input.model,
    messages,
    tools: run.toolSpecs,
    signal: run.signal,
    ...(input.modelTimeoutMs ? { timeoutMs: input.modelTimeoutMs } : {}),
    ...(input.headers ? { headers: input.headers } : {}),
  };
}

/** Applies `modify` and `add_context`; on conflicting settings the earlier hook wins. */
function patchRequest(
  request: LlmRequest,
  outcomes: readonly HookOutcome<BeforeModelDecision>[],
): LlmRequest {
  const texts: string[] = [];
  const next: LlmRequest = { ...request };
  for (const { decision } of [...outcomes].reverse()) {
    if (decision.action !== 'modify') continue;
    const { system: _system, ...settings } = decision.request;
    Object.assign(next, settings);
  }
  for (const { hook, decision } of outcomes) {
    if (decision.action === 'modify' && decision.request.system) {
      texts.push(`[${hook}] ${decision.request.system}`);
    }
  }
  texts.push(...addedContext(outcomes));
  return texts.length > 0 ? { ...next, messages: withSystemText(next.messages, texts) } : next;
}

/** Extra system text, on the prompt's system message (every provider has exactly one). */
function withSystemText(messages: LlmMessage[], texts: readonly string[]): LlmMessage[] {
  const extra = texts.join('\n\n');
  const [first, ...rest] = messages;
  if (first?.role === 'system') {
    return [{ role: 'system', content: `${first.content}\n\n${extra}` }, ...rest];
  }
  return [{ role: 'system', content: extra }, ...messages];
}
