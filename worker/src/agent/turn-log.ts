import type { FinishReason, LogEntry, ToolCall, Usage } from '@tern/shared/session/log-entry';
import { RepeatGuard } from './repeat-guard.ts';

export type LogOf<K extends LogEntry['kind']> = Extract<LogEntry, { kind: K }>;

/** What the log says about one tool call of the response being worked on. */
export type CallProgress = {
  call: ToolCall;
  started?: LogOf<'tool_started'>;
  finished?: LogOf<'tool_finished'>;
  requested?: LogOf<'approval_requested'>;
  decided?: LogOf<'approval_decided'>;
};

/** A model response whose tool calls do not all have results yet. */
export type PendingBatch = { message: LogOf<'assistant_message'>; calls: CallProgress[] };

/** Everything the loop needs to continue a turn, derived from the session log alone. */
export type TurnView = {
  /** The turn's `user_message` is committed (this is a resume, not a fresh turn). */
  hasUserMessage: boolean;
  /** Model answers committed for the turn. */
  steps: number;
  /** Usage of those answers and of the turn's compactions. */
  usage: Usage;
  /** Repeated calls refused so far in the turn. */
  refusals: number;
  /** Fed with every tool call of the turn before `batch`. */
  guard: RepeatGuard;
  /** Set when the last answer's calls are not all finished: the turn continues with them. */
  batch?: PendingBatch;
  /** Set when the turn's last entry ended it: there is nothing left to do. */
  ended?: { reason: FinishReason; state: 'done' | 'failed' | 'cancelled'; code?: string };
  /** The previous run paused for approvals (decided since, or not): it left the turn there. */
  awaitingApproval: boolean;
};

export const zeroUsage = (): Usage => ({
  input: 0,
  output: 0,
  cached: 0,
  reasoning: 0,
  costUsd: 0,
});

export function addUsage(total: Usage, u: Usage): void {
  total.input += u.input;
  total.output += u.output;
  total.cached += u.cached;
  total.reasoning += u.reasoning;
  total.costUsd += u.costUsd;
}

/** Error codes of budgets: the turn ran out, it did not fail. */
export const budgetCodes: ReadonlySet<string> = new Set([
  'max_steps',
  'max_tokens_budget',
  'max_cost',
  'wall_time',
]);

/**
 * Reads a turn's entries (a contiguous run at the log's end; `approval_decided` entries are
 * matched by call id wherever their turn id, since the API commits them between runs).
 */
export function readTurn(log: readonly LogEntry[], turnId: string, repeatLimit: number): TurnView {
  let start = log.length;
  while (start > 0) {
    const entry = log[start - 1]!;
    if (entry.turnId !== turnId && entry.kind !== 'approval_decided') break;
    start -= 1;
  }
  const view: TurnView = {
    hasUserMessage: false,
    steps: 0,
    usage: zeroUsage(),
    refusals: 0,
    guard: new RepeatGuard(repeatLimit),
    awaitingApproval: false,
  };
  let batch: PendingBatch | undefined;
  const byId = new Map<string, CallProgress>();
  for (let i = start; i < log.length; i++) {
    const entry = log[i]!;
    if (entry.kind === 'approval_decided') {
      const progress = byId.get(entry.callId);
      if (progress) progress.decided = entry;
      continue;
    }
    view.ended = undefined;
    view.awaitingApproval = entry.kind === 'approval_requested';
    switch (entry.kind) {
      case 'user_message':
        if (entry.turnId === turnId && !entry.steer) view.hasUserMessage = true;
        break;
      case 'assistant_message':
        if (entry.finishReason === 'error' || entry.finishReason === 'aborted') break;
        view.steps += 1;
        addUsage(view.usage, entry.usage);
        if (batch) for (const c of batch.calls) view.guard.see(c.call);
        batch = { message: entry, calls: entry.toolCalls.map((call) => ({ call })) };
        byId.clear();
        for (const progress of batch.calls) byId.set(progress.call.id, progress);
        if (entry.toolCalls.length === 0) {
          view.ended = { reason: entry.finishReason, state: 'done' };
        }
        break;
      case 'compaction':
        if (entry.usage) addUsage(view.usage, entry.usage);
        break;
      case 'tool_started':
      case 'tool_finished':
      case 'approval_requested': {
        const progress = byId.get(entry.callId);
        if (entry.kind === 'tool_finished' && entry.notRun === 'repeat') view.refusals += 1;
        if (!progress) break;
        if (entry.kind === 'tool_started') progress.started = entry;
        else if (entry.kind === 'tool_finished') progress.finished = entry;
        else progress.requested = entry;
        break;
      }
      case 'error': {
        const budget = budgetCodes.has(entry.code);
        view.ended = {
          reason: budget ? 'length' : 'error',
          state: budget ? 'done' : 'failed',
          code: entry.code,
        };
        break;
      }
      case 'interrupted':
        view.ended = { reason: 'aborted', state: 'cancelled' };
        break;
      default:
        break;
    }
  }
  if (batch?.calls.some((c) => !c.finished)) {
    view.batch = batch;
  } else if (batch) {
    for (const c of batch.calls) view.guard.see(c.call);
  }
  return view;
}
