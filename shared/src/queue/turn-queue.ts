import { z } from 'zod';

export const TURN_QUEUE = 'tern-turns';

/** A turn job names an input; the worker drains the session's inputs in order from there. */
export const turnJobDataSchema = z.object({
  sessionId: z.string(),
  inputSeq: z.number().int().positive(),
  enqueuedAt: z.number(),
  /** The session owner and the turn's class, for fair ordering between users (fair-queue.ts). */
  owner: z.string().default(''),
  priority: z.enum(['interactive', 'batch']).default('interactive'),
  /**
   * W3C trace context of the enqueue, so the worker's turn continues the API's trace. A malformed
   * one is dropped rather than failing the turn.
   */
  traceparent: z
    .string()
    .regex(/^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/)
    .optional()
    .catch(undefined),
});
export type TurnJobData = z.input<typeof turnJobDataSchema>;

/** Deterministic, so a retried enqueue of the same input is deduplicated by BullMQ. */
export const turnJobId = (sessionId: string, inputSeq: number) => `turn-${sessionId}-${inputSeq}`;

/**
 * How every turn job is queued: bounded history of finished jobs, and retries for a worker that
 * failed outside the turn (a crashed worker's job comes back through stall detection instead).
 */
export const turnJobOptions = (jobId: string, priority?: number) => ({
  jobId,
  ...(priority ? { priority } : {}),
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
});
