import type { NewLogEntry } from '@tern/shared/session/log-entry';
import type { TurnInput, TurnIO, TurnOutcome } from './agent-types.ts';
import { modelStep } from './model-step.ts';
import { runBatch } from './tool-batch.ts';
import { type PendingBatch, readTurn, type TurnView } from './turn-log.ts';
import { finish, startRun, stopCancelled, stopWithError, type TurnRun } from './turn-run.ts';

const DEFAULT_REPEAT_LIMIT = 3;

/**
 * One turn of the agent loop: model call, tool calls, results fed back, until the model answers
 * without tools, a limit or a guard ends it, an approval is needed, or the turn is cancelled.
 *
 * The next action is derived from the session log alone, so any worker can continue a turn
 * after a crash, a lease change or an approval: a turn whose last answer has unfinished tool
 * calls continues with them (finished calls are reused, a started call re-runs only if its tool
 * is idempotent); otherwise the model is called. Each model answer and each batch of tool
 * results is committed before the next step starts.
 */
export async function runTurn(io: TurnIO, input: TurnInput): Promise<TurnOutcome> {
  const view = readTurn(input.history, input.turnId, input.repeatLimit ?? DEFAULT_REPEAT_LIMIT);
  const run = startRun(io, input, view);
  io.emit({ type: 'turn_started', turnId: input.turnId, inputSeq: input.inputSeq });
  if (input.resumed) {
    io.emit({
      type: 'stream_discarded',
      turnId: input.turnId,
      reason: 'the turn resumed; what its previous attempt streamed after its last commit is void',
    });
  }
  // Its final entry completed the input already; there is nothing left to do.
  if (view.ended) return finish(run, view.ended.reason, view.ended.code);

  // The user's message is committed while the first model call is already streaming: it is
  // safe in the session's inputs either way, and the wait for the store would otherwise sit in
  // front of the first token.
  const opening = openingEntries(input, view);
  if (opening.length > 0) run.commitAhead(opening);

  let batch: PendingBatch | undefined = view.batch;
  // Steering is delivered at step boundaries; the first call of a fresh turn is not one.
  let boundary = view.hasUserMessage;
  for (;;) {
    if (batch) {
      const ended = await runBatch(run, batch);
      if (ended) return ended;
      batch = undefined;
      boundary = true;
    }
    if (run.signal.aborted) return stopCancelled(run, 'Cancelled before the next model call.');
    if (run.refusals >= run.maxRefusals) {
      const message = `the model kept repeating the same tool call (${run.refusals} refused repeats)`;
      return stopWithError(run, 'error', 'loop_detected', message);
    }
    const limit = budgetStop(run);
    if (limit) return stopWithError(run, limit.reason, limit.code, limit.message);
    if (boundary) await deliverSteering(run);
    const step = await modelStep(run);
    if (step.kind === 'ended') return step.outcome;
    if (step.entry.toolCalls.length === 0) return finish(run, step.entry.finishReason);
    batch = { message: step.entry, calls: step.entry.toolCalls.map((call) => ({ call })) };
  }
}

/**
 * `model_changed` when the session's model changed since its last answer (where the history
 * translation for the new provider starts), and the user's message unless the log has it.
 */
function openingEntries(input: TurnInput, view: TurnView): NewLogEntry[] {
  const entries: NewLogEntry[] = [];
  const last = input.history.findLast(
    (e) => e.kind === 'assistant_message' || e.kind === 'model_changed',
  );
  const previous =
    last?.kind === 'assistant_message'
      ? last.model
      : last?.kind === 'model_changed'
        ? last.to
        : undefined;
  if (previous !== undefined && previous !== input.modelRef) {
    entries.push({ kind: 'model_changed', from: previous, to: input.modelRef });
  }
  if (!view.hasUserMessage) {
    entries.push({ kind: 'user_message', text: input.text, inputSeq: input.inputSeq });
  }
  return entries;
}

type Limit = { reason: 'length'; code: string; message: string };

/** Budgets are checked before each model call, from the turn's totals so far. */
function budgetStop(run: TurnRun): Limit | undefined {
  const { input, usage } = run;
  const stop = (code: string, message: string): Limit => ({ reason: 'length', code, message });
  if (run.steps >= input.maxSteps) {
    return stop(
      'max_steps',
      `the turn stopped after ${input.maxSteps} steps without a final answer`,
    );
  }
  const tokens = usage.input + usage.output;
  if (input.maxTokens !== undefined && tokens >= input.maxTokens) {
    return stop('max_tokens_budget', `the turn used ${tokens} of its ${input.maxTokens} tokens`);
  }
  if (input.maxCostUsd !== undefined && usage.costUsd >= input.maxCostUsd) {
    const spent = usage.costUsd.toFixed(4);
    return stop('max_cost', `the turn cost $${spent} of its $${input.maxCostUsd} budget`);
  }
  const elapsed = run.io.now() - run.startedAt;
  if (input.maxWallTimeMs !== undefined && elapsed >= input.maxWallTimeMs) {
    const ms = Math.round(elapsed);
    return stop('wall_time', `the turn ran ${ms} ms of its ${input.maxWallTimeMs} ms`);
  }
  return undefined;
}

async function deliverSteering(run: TurnRun): Promise<void> {
  const messages = run.io.takeSteering ? await run.io.takeSteering() : [];
  if (messages.length === 0) return;
  await run.commit(
    messages.map((m) => ({
      kind: 'user_message',
      text: typeof m === 'string' ? m : m.text,
      inputSeq: (typeof m === 'string' ? undefined : m.inputSeq) ?? run.input.inputSeq,
      steer: true,
    })),
    false,
  );
}
