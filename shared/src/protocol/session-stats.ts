import { z } from 'zod';
import { finishReasonSchema, toolNotRunSchema, usageSchema } from '../session/log-entry.ts';

/**
 * The graph of a session's work: what the user sent, each model call, each tool call, and what
 * led to what. `called`: a model response asked for the tool call. `fed`: the tool call's result
 * went into the next model call. `prompted`: a user's message (or steering) went into it.
 * `continued`: the next call followed a call that asked for no tool (after a compaction, say).
 * Times are epoch ms as the log recorded them (a model call's start is its commit time less its
 * duration).
 */
export const statsNodeSchema = z.discriminatedUnion('kind', [
  z.object({
    id: z.string(),
    kind: z.literal('input'),
    turnId: z.string(),
    seq: z.number().int(),
    at: z.number(),
    steer: z.boolean(),
  }),
  z.object({
    id: z.string(),
    kind: z.literal('model_call'),
    turnId: z.string(),
    seq: z.number().int(),
    model: z.string(),
    startedAt: z.number(),
    durationMs: z.number().optional(),
    ttftMs: z.number().optional(),
    finishReason: finishReasonSchema,
    usage: usageSchema,
  }),
  z.object({
    id: z.string(),
    kind: z.literal('tool_call'),
    turnId: z.string(),
    callId: z.string(),
    name: z.string(),
    /** `pending`: asked for and not (yet) answered, e.g. awaiting approval or cut by a crash. */
    status: z.enum(['ok', 'error', 'not_run', 'pending']),
    notRun: toolNotRunSchema.optional(),
    startedAt: z.number().optional(),
    durationMs: z.number().optional(),
  }),
]);
export type StatsNode = z.infer<typeof statsNodeSchema>;

export const statsEdgeSchema = z.object({
  from: z.string(),
  to: z.string(),
  kind: z.enum(['prompted', 'called', 'fed', 'continued']),
});
export type StatsEdge = z.infer<typeof statsEdgeSchema>;

export const turnStatsSchema = z.object({
  turnId: z.string(),
  startedAt: z.number(),
  endedAt: z.number(),
  /** `running` also covers a turn cut short by a crash that no worker has resumed yet. */
  outcome: z.enum(['done', 'error', 'cancelled', 'awaiting_approval', 'running']),
  /** The `error` entry's code when the turn ended with one. */
  code: z.string().optional(),
  modelCalls: z.number().int(),
  toolCalls: z.number().int(),
  usage: usageSchema,
});
export type TurnStats = z.infer<typeof turnStatsSchema>;

export const toolTotalsSchema = z.object({
  name: z.string(),
  calls: z.number().int(),
  errors: z.number().int(),
  totalMs: z.number(),
});

export const sessionStatsSchema = z.object({
  sessionId: z.string(),
  totals: z.object({
    turns: z.number().int(),
    modelCalls: z.number().int(),
    toolCalls: z.number().int(),
    toolErrors: z.number().int(),
    /** Every model call's tokens and cost, summarising calls (compaction) included. */
    usage: usageSchema,
  }),
  tools: z.array(toolTotalsSchema),
  log: z.object({
    entries: z.number().int(),
    /** Bytes of the segments the session's head lists, as stored. */
    bytes: z.number().int(),
  }),
  /** Durable steps: each commit is one segment; snapshot packs fold segments together. */
  checkpoints: z.object({
    commits: z.number().int(),
    snapshots: z.number().int(),
  }),
  /** The last `turns` turns (query parameter), newest last; totals cover the whole session. */
  turns: z.array(turnStatsSchema),
  graph: z.object({ nodes: z.array(statsNodeSchema), edges: z.array(statsEdgeSchema) }),
});
export type SessionStats = z.infer<typeof sessionStatsSchema>;

export const sessionStatsQuerySchema = z
  .object({
    /** How many of the latest turns the graph and the turn list show. */
    turns: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .strict();
