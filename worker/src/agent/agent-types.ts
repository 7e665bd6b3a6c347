import type { LlmMessage, StreamFn, ToolSpec } from '@tern/shared/llm/llm-types';
import type { SessionEvent } from '@tern/shared/protocol/events';
import type { FinishReason, LogEntry, NewLogEntry, Usage } from '@tern/shared/session/log-entry';

export type ToolResult = { ok: boolean; output: string };

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
 * Everything the loop touches outside itself. The loop does no I/O of its own, so it runs the
 * same in a worker, the CLI, tests and benchmarks.
 */
export type TurnIO = {
  stream: StreamFn;
  tools: ReadonlyMap<string, AgentTool>;
  now(): number;
  /**
   * Durably appends entries as one step and returns them stamped with their sequence numbers.
   * `final` marks the step that completes the turn's input. Rejects when the lease was lost.
   */
  commit(entries: NewLogEntry[], options: { final: boolean }): Promise<LogEntry[]>;
  /** Ephemeral progress for watchers; committed entries are published by `commit`. */
  emit(event: SessionEvent): void;
  signal?: AbortSignal;
};

export type TurnInput = {
  sessionId: string;
  turnId: string;
  inputSeq: number;
  text: string;
  /** The model name sent to the provider (without the provider prefix). */
  model: string;
  /** `<provider>:<model>`, recorded with each answer so history can be translated later. */
  modelRef: string;
  /** Deadline of each model call. */
  modelTimeoutMs?: number;
  systemPrompt: string;
  history: readonly LogEntry[];
  maxSteps: number;
  headers?: Record<string, string>;
};

export type TurnOutcome = {
  reason: FinishReason;
  steps: number;
  usage: Usage;
};

export type { LlmMessage };
