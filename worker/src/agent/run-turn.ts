import type { LlmError, LlmEvent, ProviderMeta } from '@tern/shared/llm/llm-types';
import type { FinishReason, LogEntry, NewLogEntry, Usage } from '@tern/shared/session/log-entry';
import type { TurnInput, TurnIO, TurnOutcome } from './agent-types.ts';
import { historyToMessages } from './history-to-messages.ts';
import { type PlannedCall, runTools } from './run-tools.ts';
import { TurnStateMachine } from './turn-state.ts';

const zeroUsage = (): Usage => ({ input: 0, output: 0, cached: 0, reasoning: 0, costUsd: 0 });

function addUsage(total: Usage, u: Usage): void {
  total.input += u.input;
  total.output += u.output;
  total.cached += u.cached;
  total.reasoning += u.reasoning;
  total.costUsd += u.costUsd;
}

type ModelStep = {
  text: string;
  reasoning: string;
  reasoningMeta?: ProviderMeta;
  calls: PlannedCall[];
  usage: Usage;
  reason: FinishReason;
  error?: LlmError;
  ttftMs?: number;
  durationMs: number;
};

/**
 * One turn of the agent loop: model call, tool calls, results fed back, until the model answers
 * without tools or a limit ends it. Each model response and each batch of tool results is
 * committed before the next step starts, so a resumed turn never repeats a finished step.
 */
export async function runTurn(io: TurnIO, input: TurnInput): Promise<TurnOutcome> {
  const usage = zeroUsage();
  const log: LogEntry[] = [...input.history];
  const signal = io.signal ?? new AbortController().signal;
  io.emit({ type: 'turn_started', turnId: input.turnId, inputSeq: input.inputSeq });
  const machine = new TurnStateMachine((from, to) =>
    io.emit({ type: 'turn_state', turnId: input.turnId, from, to }),
  );

  // Commits run one after another, in log order. The user's message is committed while the first
  // model call is already streaming: it is safe in the session's inputs either way, and the wait
  // for the store would otherwise sit in front of the first token.
  let chain: Promise<unknown> = Promise.resolve();
  const commit = (entries: NewLogEntry[], final: boolean): Promise<LogEntry[]> => {
    const next = chain.then(() => io.commit(entries, { final }));
    chain = next;
    return next;
  };
  // The session's model changed since its last answer: say so in the log, where the history
  // translation for the new provider starts.
  const lastModel = log.findLast(
    (e) => e.kind === 'assistant_message' || e.kind === 'model_changed',
  );
  const previous =
    lastModel?.kind === 'assistant_message'
      ? lastModel.model
      : lastModel?.kind === 'model_changed'
        ? lastModel.to
        : undefined;
  if (previous !== undefined && previous !== input.modelRef) {
    commit([{ kind: 'model_changed', from: previous, to: input.modelRef }], false).catch(() => {});
  }
  if (!log.some((e) => e.kind === 'user_message' && e.turnId === input.turnId)) {
    const entry: NewLogEntry = { kind: 'user_message', text: input.text, inputSeq: input.inputSeq };
    const placeholder = { ...entry, seq: 0, turnId: input.turnId, epoch: 0, at: 0 } as LogEntry;
    log.push(placeholder);
    commit([entry], false).then(
      ([stamped]) => {
        if (stamped) log[log.indexOf(placeholder)] = stamped;
      },
      () => {},
    );
  }

  let steps = 0;
  const finish = (reason: FinishReason): TurnOutcome => {
    machine.to(reason === 'aborted' ? 'cancelled' : reason === 'error' ? 'failed' : 'done');
    io.emit({ type: 'turn_finished', turnId: input.turnId, reason, usage: { ...usage }, steps });
    return { reason, steps, usage };
  };

  while (steps < input.maxSteps) {
    steps += 1;
    machine.to('awaiting_model');
    const step = await callModel(io, input, log, signal, () => machine.to('streaming'));
    addUsage(usage, step.usage);

    if (step.reason === 'error' || step.reason === 'aborted') {
      const error = step.error;
      log.push(
        ...(await commit(
          [
            {
              kind: 'error',
              code: error?.kind ?? step.reason,
              message: error?.message ?? 'the model call ended without an answer',
            },
          ],
          true,
        )),
      );
      return finish(step.reason);
    }

    const final = step.calls.length === 0;
    log.push(
      ...(await commit(
        [
          {
            kind: 'assistant_message',
            model: input.modelRef,
            text: step.text,
            reasoning: step.reasoning,
            ...(step.reasoningMeta ? { reasoningMeta: step.reasoningMeta } : {}),
            toolCalls: step.calls.map(({ id, name, args, meta }) =>
              meta ? { id, name, args, meta } : { id, name, args },
            ),
            finishReason: step.reason,
            usage: step.usage,
            durationMs: step.durationMs,
            ...(step.ttftMs === undefined ? {} : { ttftMs: step.ttftMs }),
          },
        ],
        final,
      )),
    );
    if (final) return finish(step.reason);

    log.push(
      ...(await commit(
        step.calls.map((c) => ({ kind: 'tool_started', callId: c.id, name: c.name, args: c.args })),
        false,
      )),
    );
    machine.to('running_tools');
    const results = await runTools(step.calls, io.tools, {
      signal,
      sessionId: input.sessionId,
      now: io.now,
    });
    log.push(
      ...(await commit(
        results.map(({ call, result, durationMs }) => ({
          kind: 'tool_finished',
          callId: call.id,
          name: call.name,
          ok: result.ok,
          output: result.output,
          durationMs,
        })),
        false,
      )),
    );
  }

  log.push(
    ...(await commit(
      [
        {
          kind: 'error',
          code: 'max_steps',
          message: `the turn stopped after ${input.maxSteps} steps without a final answer`,
        },
      ],
      true,
    )),
  );
  return finish('length');
}

async function callModel(
  io: TurnIO,
  input: TurnInput,
  log: readonly LogEntry[],
  signal: AbortSignal,
  onFirstOutput: () => void,
): Promise<ModelStep> {
  const started = io.now();
  const step: ModelStep = {
    text: '',
    reasoning: '',
    calls: [],
    usage: zeroUsage(),
    reason: 'stop',
    durationMs: 0,
  };
  const names = new Map<string, string>();
  const stream = io.stream({
    model: input.model,
    messages: historyToMessages(input.systemPrompt, log),
    tools: [...io.tools.values()].map((t) => t.spec),
    signal,
    ...(input.modelTimeoutMs ? { timeoutMs: input.modelTimeoutMs } : {}),
    ...(input.headers ? { headers: input.headers } : {}),
  });
  let streaming = false;
  for await (const event of stream as AsyncIterable<LlmEvent>) {
    if (
      !streaming &&
      (event.type === 'text_delta' ||
        event.type === 'reasoning_delta' ||
        event.type === 'tool_call_start')
    ) {
      streaming = true;
      onFirstOutput();
    }
    switch (event.type) {
      case 'text_delta':
        step.ttftMs ??= io.now() - started;
        step.text += event.text;
        io.emit({ type: 'text_delta', turnId: input.turnId, text: event.text });
        break;
      case 'reasoning_delta':
        step.ttftMs ??= io.now() - started;
        step.reasoning += event.text;
        io.emit({ type: 'reasoning_delta', turnId: input.turnId, text: event.text });
        break;
      case 'tool_call_start':
        step.ttftMs ??= io.now() - started;
        names.set(event.id, event.name);
        break;
      case 'tool_call_delta':
        io.emit({
          type: 'tool_call_delta',
          turnId: input.turnId,
          callId: event.id,
          name: names.get(event.id) ?? '',
          argsText: event.argsText,
        });
        break;
      case 'tool_call_end': {
        const meta = event.meta ? { meta: event.meta } : {};
        step.calls.push(
          event.parsed.ok
            ? { id: event.id, name: event.name, args: event.parsed.args, ...meta }
            : { id: event.id, name: event.name, args: {}, invalid: event.parsed.message, ...meta },
        );
        break;
      }
      case 'reasoning_signature':
        step.reasoningMeta = event.meta;
        break;
      case 'retry':
        io.emit({
          type: 'model_retry',
          turnId: input.turnId,
          attempt: event.attempt,
          delayMs: event.delayMs,
          code: event.error.kind,
          message: event.error.message,
        });
        break;
      case 'usage':
        step.usage = event.usage;
        break;
      case 'finish':
        step.reason = event.reason;
        if (event.error) step.error = event.error;
        break;
      case 'start':
        break;
    }
  }
  step.durationMs = io.now() - started;
  return step;
}
