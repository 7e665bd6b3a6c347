import type { LlmMessage, StreamFn, ToolSpec } from '@tern/shared/llm/llm-types';
import type { SessionEvent } from '@tern/shared/protocol/events';
import type { FinishReason, LogEntry, NewLogEntry, Usage } from '@tern/shared/session/log-entry';
import type { ApprovalPolicy } from './approval-policy.ts';
import type { Hook } from './hook-types.ts';

export type ToolResult = {
  ok: boolean;
  output: string;
  /** Set by the loop when the turn's cancel stopped the tool: the call got no real result. */
  interrupted?: boolean;
};

export type ToolContext = {
  /** Aborted on cancel or when the tool's time budget ends; tools must stop promptly. */
  signal: AbortSignal;
  sessionId: string;
};

/**
 * How a tool shares a model response with its siblings: `parallel` runs alongside anything but
 * exclusive tools; `sequential` runs one at a time among sequential tools; `exclusive` runs alone.
 */
export type ToolConcurrency = 'parallel' | 'sequential' | 'exclusive';

/** A tool as the loop sees it: a schema for the model and an executor that may fail. */
export type AgentTool = {
  spec: ToolSpec;
  /** Safe to run again after a crash interrupted it. */
  idempotent: boolean;
  /** Defaults to `parallel`. */
  concurrency?: ToolConcurrency;
  /** Wall-clock budget; past it the call is aborted and the model reads a timeout result. */
  timeoutMs?: number;
  /** Output beyond this many bytes is cut, with a note saying how much was dropped. */
  outputCapBytes?: number;
  execute(args: Record<string, unknown>, context: ToolContext): Promise<ToolResult>;
};

/**
 * A message the user sent with mode `steer` while this turn ran: its text, or the text with the
 * input sequence it was recorded under (default: the turn's own `inputSeq`).
 */
export type SteeringMessage = string | { text: string; inputSeq?: number };

/**
 * Everything the loop touches outside itself. The loop does no I/O of its own, so it runs the
 * same in a worker, the CLI, tests and benchmarks.
 */
export type TurnIO = {
  stream: StreamFn;
  tools: ReadonlyMap<string, AgentTool>;
  /** A monotonic clock in ms; wall-time budgets and durations are measured with it. */
  now(): number;
  /**
   * Durably appends entries as one step and returns them stamped with their sequence numbers.
   * `final` marks the step that completes the turn's input. Rejects when the lease was lost.
   * The loop never calls it concurrently: each commit starts after the previous one settled.
   */
  commit(entries: NewLogEntry[], options: { final: boolean }): Promise<LogEntry[]>;
  /** Ephemeral progress for watchers; committed entries are published by `commit`. */
  emit(event: SessionEvent): void;
  /** Cancels the turn: the model stream and running tools stop, and `interrupted` is logged. */
  signal?: AbortSignal;
  /**
   * Deployment and session hooks, already merged (see `mergeHooks`). Hooks of one point run
   * concurrently, each within its own time budget.
   */
  hooks?: readonly Hook[];
  /**
   * Takes the steering messages queued for this turn (and removes them from the queue). Called at
   * step boundaries, after tool results and before the next model call; what it returns is
   * committed as `user_message` entries with `steer: true` (and the message's `inputSeq`). It is
   * not called when the turn is about to end, so a message sent during the last step stays
   * queued and becomes a follow-up (the next input).
   */
  takeSteering?(): Promise<SteeringMessage[]>;
};

export type TurnInput = {
  sessionId: string;
  turnId: string;
  inputSeq: number;
  /** The user's message; committed as the turn's first entry unless the log already has it. */
  text: string;
  /** The model name sent to the provider (without the provider prefix). */
  model: string;
  /** `<provider>:<model>`, recorded with each answer so history can be translated later. */
  modelRef: string;
  /** Deadline of each model call. */
  modelTimeoutMs?: number;
  systemPrompt: string;
  /**
   * The session log as committed so far, including this turn's own entries when it resumes
   * (after a crash, a lease change or an approval). The loop derives its next action from it.
   */
  history: readonly LogEntry[];
  headers?: Record<string, string>;
  /**
   * A previous attempt of this turn may have streamed deltas that were never committed (it
   * crashed or lost its lease mid-answer): the loop tells watchers to drop them
   * (`stream_discarded`) before it starts.
   */
  resumed?: boolean;
  /** Model calls per turn; counted from the log, so resumes do not reset it. */
  maxSteps: number;
  /** Input plus output tokens summed over the turn's model calls (code `max_tokens_budget`). */
  maxTokens?: number;
  /** USD summed over the turn's model calls (code `max_cost`). */
  maxCostUsd?: number;
  /**
   * Running time of this call of `runTurn`, by `io.now()`, checked at step boundaries (code
   * `wall_time`). Time paused for an approval does not count; a single model call is bounded by
   * `modelTimeoutMs` and a tool by its own timeout.
   */
  maxWallTimeMs?: number;
  /** The n-th identical tool call in a row (same tool, same canonical args) is refused. Default 3. */
  repeatLimit?: number;
  /** After this many refused repeats in the turn, it stops with `loop_detected`. Default 2. */
  maxRepeatRefusals?: number;
  /** Per-tool approval rules (validated JSON, see `approvalPolicySchema`); default: run all. */
  approvals?: ApprovalPolicy;
  /** Model steps kept verbatim when older context is summarised on overflow. Default 2. */
  compactKeepSteps?: number;
};

/** Codes of the `error` entries the loop's own limits write (model errors use their kind). */
export type TurnStopCode =
  | 'max_steps'
  | 'max_tokens_budget'
  | 'max_cost'
  | 'wall_time'
  | 'loop_detected'
  | 'hook_denied';

export type TurnOutcome =
  | {
      /** `length`: a budget ended it; `aborted`: cancelled; `error`: model, hook or loop guard. */
      reason: FinishReason;
      state: 'done' | 'failed' | 'cancelled';
      /** The `error` entry's code when the turn ended with one. */
      code?: string;
      steps: number;
      usage: Usage;
    }
  | {
      /**
       * Paused: the input is NOT complete. The caller keeps the session waiting until every id in
       * `pending` has an `approval_decided` entry, then calls `runTurn` again for the same input.
       */
      reason: 'awaiting_approval';
      state: 'awaiting_approval';
      pending: string[];
      steps: number;
      usage: Usage;
    };

export type { LlmMessage };
