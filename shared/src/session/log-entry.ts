import { z } from 'zod';

/** Token counts of one model call, normalised across providers. */
export const usageSchema = z.object({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  cached: z.number().int().nonnegative().default(0),
  reasoning: z.number().int().nonnegative().default(0),
  costUsd: z.number().nonnegative().default(0),
});
export type Usage = z.infer<typeof usageSchema>;

/** Opaque provider data replayed verbatim to the provider that produced it (signatures). */
export const providerMetaSchema = z.object({
  provider: z.string(),
  signature: z.string().optional(),
});

export const toolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
  meta: providerMetaSchema.optional(),
  /** The model's arguments did not parse (`args` is then `{}`); the call is answered, not run. */
  invalid: z.string().optional(),
});
export type ToolCall = z.infer<typeof toolCallSchema>;

export const finishReasonSchema = z.enum([
  'stop',
  'length',
  'tool_calls',
  'content_filter',
  'aborted',
  'error',
]);
export type FinishReason = z.infer<typeof finishReasonSchema>;

/** Why a tool call got a result without running: the loop's guards, not the tool, answered. */
export const toolNotRunSchema = z.enum(['policy', 'hook', 'approval', 'repeat', 'interrupted']);
export type ToolNotRun = z.infer<typeof toolNotRunSchema>;

const base = {
  seq: z.number().int().positive(),
  turnId: z.string(),
  epoch: z.number().int().nonnegative(),
  at: z.number().int(),
  /**
   * The workspace tree (workspace-tree.ts) this entry's step left, on the last entry of a step
   * that changed the workspace. The workspace after any entry is the latest tree recorded up to it,
   * or the session's initial tree.
   */
  workspace: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
};

/**
 * One entry of a session's append-only log. The log is the truth: transcripts, resumes and
 * client event replays are all derived from it.
 */
/**
 * Bumped whenever `logEntrySchema` changes what it accepts or the defaults it fills in. Snapshot
 * packs record the version that normalised their entries; a pack of the current version is read
 * without re-validating each entry (its checksum already proves the bytes are the ones written).
 */
export const LOG_SCHEMA_VERSION = 1;

export const logEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('user_message'),
    text: z.string(),
    inputSeq: z.number(),
    /** Sent while the turn ran and delivered at its next step boundary (mode `steer`). */
    steer: z.boolean().optional(),
  }),
  z.object({
    ...base,
    kind: z.literal('assistant_message'),
    /** `<provider>:<model>` that produced the message. */
    model: z.string(),
    text: z.string(),
    reasoning: z.string().default(''),
    reasoningMeta: providerMetaSchema.optional(),
    toolCalls: z.array(toolCallSchema),
    finishReason: finishReasonSchema,
    usage: usageSchema,
    ttftMs: z.number().nonnegative().optional(),
    durationMs: z.number().nonnegative().optional(),
  }),
  z.object({
    ...base,
    kind: z.literal('tool_started'),
    callId: z.string(),
    name: z.string(),
    args: z.record(z.string(), z.unknown()),
  }),
  z.object({
    ...base,
    kind: z.literal('tool_finished'),
    callId: z.string(),
    name: z.string(),
    ok: z.boolean(),
    output: z.string(),
    durationMs: z.number().nonnegative(),
    /** Set when the tool did not run (or did not run to the end); `output` tells the model why. */
    notRun: toolNotRunSchema.optional(),
  }),
  /** A call waits for a human: `ask` in the session's approval policy. */
  z.object({
    ...base,
    kind: z.literal('approval_requested'),
    callId: z.string(),
    tool: z.string(),
    args: z.record(z.string(), z.unknown()),
    reason: z.string(),
  }),
  /** A human's answer to an `approval_requested`; `args`, when given, replace the model's. */
  z.object({
    ...base,
    kind: z.literal('approval_decided'),
    callId: z.string(),
    decision: z.enum(['approve', 'deny']),
    args: z.record(z.string(), z.unknown()).optional(),
    /** Who decided (a user id or name), quoted to the model on a denial. */
    by: z.string(),
    reason: z.string().optional(),
  }),
  /**
   * Entries `fromSeq..toSeq` summarised to fit the model's context: the prompt is built from the
   * latest compaction's summary plus the entries after `toSeq`. The log itself keeps everything.
   */
  z.object({
    ...base,
    kind: z.literal('compaction'),
    summary: z.string(),
    fromSeq: z.number().int().nonnegative(),
    toSeq: z.number().int().nonnegative(),
    /** What the summarising call cost; it counts toward the turn's budgets. */
    usage: usageSchema.optional(),
  }),
  z.object({
    ...base,
    kind: z.literal('model_changed'),
    from: z.string(),
    to: z.string(),
  }),
  z.object({
    ...base,
    kind: z.literal('interrupted'),
    reason: z.string(),
    /** Tool calls of the turn left without a result. */
    unfinished: z.array(z.string()).optional(),
  }),
  z.object({
    ...base,
    kind: z.literal('error'),
    code: z.string(),
    message: z.string(),
  }),
]);

export type LogEntry = z.infer<typeof logEntrySchema>;
export type LogEntryKind = LogEntry['kind'];

/** An entry before the committer stamps it with its position in the log (and workspace tree). */
export type NewLogEntry = LogEntry extends infer E
  ? E extends LogEntry
    ? Omit<E, 'seq' | 'epoch' | 'at' | 'turnId' | 'workspace'>
    : never
  : never;
