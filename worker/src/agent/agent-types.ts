import type { LlmMessage, StreamFn, ToolSpec } from '@tern/shared/llm/llm-types';
import type { SessionEvent } from '@tern/shared/protocol/events';
import type { FinishReason, LogEntry, NewLogEntry, Usage } from '@tern/shared/session/log-entry';

export type ToolResult = { ok: boolean; output: string };

export type ToolContext = {
  signal: AbortSignal;
  sessionId: string;
};

/** A tool as the loop sees it: a schema for the model and an executor that may fail. */
export type AgentTool = {
  spec: ToolSpec;
  /** Safe to run again after a crash interrupted it. */
  idempotent: boolean;
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
