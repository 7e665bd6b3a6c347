import { z } from 'zod';

export const TURN_QUEUE = 'tern-turns';

/** A turn job names an input; the worker drains the session's inputs in order from there. */
export const turnJobDataSchema = z.object({
  sessionId: z.string(),
  inputSeq: z.number().int().positive(),
  enqueuedAt: z.number(),
});
export type TurnJobData = z.infer<typeof turnJobDataSchema>;

/** Deterministic, so a retried enqueue of the same input is deduplicated by BullMQ. */
export const turnJobId = (sessionId: string, inputSeq: number) => `turn-${sessionId}-${inputSeq}`;
