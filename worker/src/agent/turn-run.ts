import type { ToolSpec } from '@tern/shared/llm/llm-types';
import type { FinishReason, LogEntry, NewLogEntry, Usage } from '@tern/shared/session/log-entry';
import type { TurnInput, TurnIO, TurnOutcome } from './agent-types.ts';
import { type CompiledPolicy, compileApprovalPolicy } from './approval-policy.ts';
import { PromptBuilder } from './history-to-messages.ts';
import type { RepeatGuard } from './repeat-guard.ts';
import { type HookEnv, type HookSet, hookSet } from './run-hooks.ts';
import type { TurnView } from './turn-log.ts';
import { TurnStateMachine } from './turn-state.ts';

const DEFAULT_MAX_REPEAT_REFUSALS = 2;

/** The state of one call of `runTurn`, shared by the loop's steps. */
export type TurnRun = {
  io: TurnIO;
  input: TurnInput;
  /** The session log as this run knows it: the history plus what it committed, in log order. */
  log: LogEntry[];
  prompt: PromptBuilder;
  machine: TurnStateMachine;
  signal: AbortSignal;
  hooks: HookSet;
  policy: CompiledPolicy;
  guard: RepeatGuard;
  toolSpecs: ToolSpec[];
  usage: Usage;
  steps: number;
  refusals: number;
  maxRefusals: number;
  startedAt: number;
  /** `add_context` of after-model hooks, for the next model call. */
  nextContext: string[];
  /** Appends entries to the store, after every earlier commit, and to `log`. */
  commit(entries: NewLogEntry[], final: boolean): Promise<LogEntry[]>;
  /**
   * Commits without waiting: the entries enter `log` at once as placeholders and are swapped for
   * the stored ones when the commit lands. A failure surfaces at the next `commit`.
   */
  commitAhead(entries: NewLogEntry[]): void;
  /** Resolves when every commit so far has landed. */
  settled(): Promise<unknown>;
};

export function startRun(io: TurnIO, input: TurnInput, view: TurnView): TurnRun {
  const log: LogEntry[] = [...input.history];
  let chain: Promise<unknown> = Promise.resolve();
  const commit = (entries: NewLogEntry[], final: boolean): Promise<LogEntry[]> => {
    const next = chain
      .then(() => io.commit(entries, { final }))
      .then((stamped) => {
        log.push(...stamped);
        return stamped;
      });
    chain = next;
    return next;
  };
  const commitAhead = (entries: NewLogEntry[]): void => {
    const placeholders = entries.map(
      (e) => ({ ...e, seq: 0, turnId: input.turnId, epoch: 0, at: 0 }) as LogEntry,
    );
    const at = log.length;
    log.push(...placeholders);
    const next = chain.then(() => io.commit(entries, { final: false }));
    chain = next;
    next.then(
      (stamped) => {
        stamped.forEach((entry, i) => {
          if (log[at + i] === placeholders[i]) log[at + i] = entry;
        });
      },
      () => {},
    );
  };
  const initial = view.awaitingApproval ? 'awaiting_approval' : 'awaiting_model';
  return {
    io,
    input,
    log,
    prompt: new PromptBuilder(input.systemPrompt),
    machine: new TurnStateMachine(
      (from, to) => io.emit({ type: 'turn_state', turnId: input.turnId, from, to }),
      initial,
    ),
    signal: io.signal ?? new AbortController().signal,
    hooks: hookSet(io.hooks),
    policy: compileApprovalPolicy(input.approvals),
    guard: view.guard,
    toolSpecs: [...io.tools.values()].map((t) => t.spec),
    usage: view.usage,
    steps: view.steps,
    refusals: view.refusals,
    maxRefusals: input.maxRepeatRefusals ?? DEFAULT_MAX_REPEAT_REFUSALS,
    startedAt: io.now(),
    nextContext: [],
    commit,
    commitAhead,
    settled: () => chain,
  };
}

/** Ends the turn: its state, `turn_finished`, and the outcome. */
export function finish(run: TurnRun, reason: FinishReason, code?: string): TurnOutcome {
  const state = reason === 'aborted' ? 'cancelled' : reason === 'error' ? 'failed' : 'done';
  run.machine.to(state);
  run.io.emit({
    type: 'turn_finished',
    turnId: run.input.turnId,
    reason,
    usage: { ...run.usage },
    steps: run.steps,
  });
  return {
    reason,
    state,
    ...(code === undefined ? {} : { code }),
    steps: run.steps,
    usage: run.usage,
  };
}

/** Ends the turn with a final `error` entry. */
export async function stopWithError(
  run: TurnRun,
  reason: FinishReason,
  code: string,
  message: string,
): Promise<TurnOutcome> {
  await run.commit([{ kind: 'error', code, message }], true);
  return finish(run, reason, code);
}

/** Ends a cancelled turn with an `interrupted` entry (after `before`, in the same commit). */
export async function stopCancelled(
  run: TurnRun,
  reason: string,
  unfinished: string[] = [],
  before: NewLogEntry[] = [],
): Promise<TurnOutcome> {
  const entry: NewLogEntry = {
    kind: 'interrupted',
    reason,
    ...(unfinished.length > 0 ? { unfinished } : {}),
  };
  await run.commit([...before, entry], true);
  return finish(run, 'aborted');
}

/** Stops without completing the input: the turn waits for approvals. */
export function pause(run: TurnRun, pending: string[]): TurnOutcome {
  run.machine.to('awaiting_approval');
  run.io.emit({
    type: 'turn_paused',
    turnId: run.input.turnId,
    reason: 'awaiting_approval',
    pending,
    usage: { ...run.usage },
    steps: run.steps,
  });
  return {
    reason: 'awaiting_approval',
    state: 'awaiting_approval',
    pending,
    steps: run.steps,
    usage: run.usage,
  };
}

/** The read-only facts every hook of this step sees. */
export function hookBase(run: TurnRun) {
  return { sessionId: run.input.sessionId, turnId: run.input.turnId, step: run.steps };
}

export function hookEnv(run: TurnRun, callId?: string): HookEnv {
  return {
    turnId: run.input.turnId,
    signal: run.signal,
    emit: (event) => run.io.emit(event),
    ...(callId === undefined ? {} : { callId }),
  };
}
