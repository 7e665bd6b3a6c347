import { z } from 'zod';

/**
 * What a batch job produced, target by target: the input of the JUnit and patch reports, and
 * the shape results are stored in (so it is read back through this schema).
 */

export const TARGET_STATUSES = [
  /** The target's tests ran green at the end. */
  'passed',
  /** The agent stopped with tests that still fail. */
  'failed',
  /** The steps, tokens, cost or time budget ran out first. */
  'budget_exhausted',
  /** The target could not be worked on (a missing file, a crash, a model error). */
  'error',
  'cancelled',
  /** Not run: the job's own budget ran out, or it was not selected for a retry. */
  'skipped',
] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

/** A file the agent wrote; `original` is null for a file it created. */
export const changedFileSchema = z.object({
  path: z.string().min(1),
  content: z.string(),
  original: z.string().nullable(),
});
export type ChangedFile = z.infer<typeof changedFileSchema>;

export const targetResultSchema = z.object({
  target: z.object({
    id: z.string(),
    file: z.string(),
    name: z.string().optional(),
  }),
  status: z.enum(TARGET_STATUSES),
  /** The tests it wrote or changed. */
  testFiles: z.array(changedFileSchema),
  /** Changes to the code under test, when the job allowed them. */
  sourceFiles: z.array(changedFileSchema).default([]),
  lastRun: z
    .object({
      command: z.string(),
      exitCode: z.number().int().nullable(),
      output: z.string(),
      durationMs: z.number().nonnegative(),
    })
    .optional(),
  /** Line coverage gained, in percentage points, where the framework reported coverage. */
  coverageDelta: z.number().optional(),
  tokens: z.object({ input: z.number().int(), output: z.number().int() }),
  costUsd: z.number().nonnegative(),
  durationMs: z.number().nonnegative(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type TargetResult = z.infer<typeof targetResultSchema>;

export const batchResultSchema = z.object({
  jobId: z.string(),
  title: z.string().optional(),
  framework: z.string(),
  model: z.string().optional(),
  /** ISO 8601. */
  startedAt: z.string(),
  targets: z.array(targetResultSchema),
});
export type BatchResult = z.infer<typeof batchResultSchema>;
