import { z } from 'zod';
import { TARGET_STATUSES, type TargetStatus } from '../batch/batch-result.ts';

/**
 * Batch jobs as the API, the gateway, the CLI and the UI see them: ids, per-target state,
 * progress, summaries and the events of a batch's stream (issue 8). The request body itself is
 * batch-job-request.ts; a finished target's full result is batch-result.ts.
 */

/** `bat_` and 16 alphanumerics: the alphanumerics are reused in the target sessions' ids. */
export const batchIdSchema = z
  .string()
  .regex(/^bat_[A-Za-z0-9]{16}$/, 'batch ids look like bat_<16 alphanumerics>');

/** `t<index>`, the index in the prepared target list (0-based). */
export const batchTargetIdSchema = z
  .string()
  .regex(/^t(0|[1-9]\d{0,5})$/, 'target ids look like t<index>');

export const batchTargetIdFor = (index: number) => `t${index}`;

/** The index of a target id, or `undefined` for a string that is not one. */
export function batchTargetIndex(targetId: string): number | undefined {
  return batchTargetIdSchema.safeParse(targetId).success ? Number(targetId.slice(1)) : undefined;
}

/**
 * The session a target's attempt runs in, derived so that a retried dispatcher job finds the
 * session its first try created: `ses_b<alnum>t<index>` for the first attempt and
 * `ses_b<alnum>t<index>r<attempt>` for a retry, a fresh session that does not carry the failed
 * attempt's history. Both match `sessionIdSchema`.
 */
export function batchTargetSessionId(batchId: string, index: number, attempt: number): string {
  const alnum = batchId.slice('bat_'.length);
  return attempt >= 2 ? `ses_b${alnum}t${index}r${attempt}` : `ses_b${alnum}t${index}`;
}

export const BATCH_STATUSES = ['running', 'cancelling', 'cancelled', 'done'] as const;
export const batchStatusSchema = z.enum(BATCH_STATUSES);
export type BatchStatus = z.infer<typeof batchStatusSchema>;

/** A target is `queued`, `running`, or one of the terminal statuses of batch-result.ts. */
export const batchTargetStatusSchema = z.enum(['queued', 'running', ...TARGET_STATUSES] as const);
export type BatchTargetStatus = z.infer<typeof batchTargetStatusSchema>;

export const isTerminalTargetStatus = (status: BatchTargetStatus): status is TargetStatus =>
  status !== 'queued' && status !== 'running';

/** What retry-failed retries when the request names no statuses. */
export const DEFAULT_RETRY_STATUSES: readonly TargetStatus[] = [
  'failed',
  'error',
  'budget_exhausted',
];

const tokensSchema = z.object({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
});

export const batchTargetStateSchema = z.object({
  id: batchTargetIdSchema,
  file: z.string(),
  name: z.string().optional(),
  /** Where the target's tests are suggested to go. */
  testFile: z.string(),
  status: batchTargetStatusSchema,
  /** Set once the target's attempt has a session. */
  sessionId: z.string().optional(),
  /** 1 for the first run, +1 per retry. */
  attempt: z.number().int().positive(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  tokens: tokensSchema,
  costUsd: z.number().nonnegative(),
  durationMs: z.number().nonnegative().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type BatchTargetState = z.infer<typeof batchTargetStateSchema>;

export const batchProgressSchema = z.object({
  total: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  /** Targets in any terminal status. */
  done: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  budgetExhausted: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  /** Spent by every attempt so far, retried ones included. */
  tokens: tokensSchema,
  costUsd: z.number().nonnegative(),
  elapsedMs: z.number().nonnegative(),
  /** `null` until a target finished. */
  etaMs: z.number().nonnegative().nullable(),
});
export type BatchProgress = z.infer<typeof batchProgressSchema>;

export const batchConcurrencySchema = z.union([z.literal('auto'), z.number().int().positive()]);
export type BatchConcurrency = z.infer<typeof batchConcurrencySchema>;

export const batchSummarySchema = z.object({
  id: batchIdSchema,
  title: z.string().optional(),
  owner: z.string(),
  status: batchStatusSchema,
  createdAt: z.number(),
  finishedAt: z.number().optional(),
  framework: z.string(),
  testCommand: z.string(),
  model: z.string(),
  concurrency: batchConcurrencySchema,
  progress: batchProgressSchema,
});
export type BatchSummary = z.infer<typeof batchSummarySchema>;

export const batchDetailSchema = batchSummarySchema.extend({
  targets: z.array(batchTargetStateSchema),
});
export type BatchDetail = z.infer<typeof batchDetailSchema>;

/** XADDed to the batch's stream; gateways relay them as socket event `batch_event`. */
export const batchEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('batch_progress'),
    batchId: batchIdSchema,
    progress: batchProgressSchema,
  }),
  z.object({
    type: z.literal('target_started'),
    batchId: batchIdSchema,
    targetId: batchTargetIdSchema,
    sessionId: z.string(),
    attempt: z.number().int().positive(),
  }),
  z.object({
    type: z.literal('target_finished'),
    batchId: batchIdSchema,
    targetId: batchTargetIdSchema,
    status: z.enum(TARGET_STATUSES),
    durationMs: z.number().nonnegative(),
  }),
  z.object({
    type: z.literal('batch_finished'),
    batchId: batchIdSchema,
    status: z.enum(['done', 'cancelled']),
    progress: batchProgressSchema,
  }),
]);
export type BatchEvent = z.infer<typeof batchEventSchema>;

/** A stream entry as relayed: its stream id (for resuming) and the event. */
export type BatchStreamEvent = { id: string; event: BatchEvent };

/** `POST /v1/batches/:id/retry`: which finished targets to run again. */
export const retryBatchBodySchema = z
  .object({
    statuses: z
      .array(z.enum(TARGET_STATUSES))
      .min(1)
      .max(TARGET_STATUSES.length)
      .default([...DEFAULT_RETRY_STATUSES]),
  })
  .strict();
export type RetryBatchBody = z.infer<typeof retryBatchBodySchema>;

export const listBatchesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** Opaque cursor from a previous page's `nextCursor`. */
    cursor: z.string().regex(/^\d+$/).optional(),
    /** Admins: every user's batches. */
    all: z.enum(['true', 'false']).optional(),
  })
  .strict();
export type ListBatchesQuery = z.infer<typeof listBatchesQuerySchema>;

/** Socket frame `watch_batch`: follow a batch's stream from after `lastEventId` (or its start). */
export const watchBatchSchema = z
  .object({
    batchId: batchIdSchema,
    lastEventId: z
      .string()
      .regex(/^\d+-\d+$/)
      .optional(),
  })
  .strict();
export type WatchBatch = z.infer<typeof watchBatchSchema>;
