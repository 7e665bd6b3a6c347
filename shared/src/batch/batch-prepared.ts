import { z } from 'zod';
import type { SimControls } from '../protocol/api.ts';
import { batchConcurrencySchema, batchTargetIdSchema } from '../protocol/batch-api.ts';
import {
  batchSimControlsSchema,
  jobBudgetSchema,
  targetBudgetSchema,
} from './batch-job-request.ts';
import { TEST_FRAMEWORKS } from './framework-detect.ts';

/**
 * `batches/<id>/prepared.json`: everything a dispatcher needs to work on any target of a batch,
 * written once by the API before the batch becomes visible, so that dispatchers never redo the
 * preparation (snapshot reading, discovery, prompt rendering).
 */
export const preparedTargetSchema = z
  .object({
    id: batchTargetIdSchema,
    index: z.number().int().nonnegative(),
    file: z.string().min(1),
    /** The function, class or `Type.Method`, for a target inside a file. */
    name: z.string().optional(),
    /** Where the agent is asked to put the tests. */
    testFile: z.string().min(1),
    /** The first message of the target's agent, rendered. */
    prompt: z.string().min(1),
  })
  .strict();
export type PreparedTarget = z.infer<typeof preparedTargetSchema>;

export const preparedBatchSchema = z
  .object({
    version: z.literal(1).default(1),
    targets: z.array(preparedTargetSchema).min(1),
    framework: z.enum(TEST_FRAMEWORKS),
    testCommand: z.string().min(1),
    budgets: z.object({ perTarget: targetBudgetSchema, job: jobBudgetSchema }).strict(),
    allowTouchingSource: z.boolean(),
    /** `<provider>:<model>` of every target session. */
    model: z.string().min(1),
    sim: batchSimControlsSchema.optional(),
    concurrency: batchConcurrencySchema,
  })
  .strict()
  .refine((p) => p.targets.every((t, i) => t.index === i && t.id === `t${i}`), {
    message: 'targets are listed in index order, with ids t<index>',
  });
export type PreparedBatchFile = z.infer<typeof preparedBatchSchema>;
/** What the API writes: defaulted budget fields may be left out. */
export type PreparedBatchInput = z.input<typeof preparedBatchSchema>;

/**
 * A target's simulator controls: `{{function}}` becomes the target's function (its file's stem for
 * a file target) and `{{index}}` its index, with characters a scenario name cannot hold as `_`.
 */
export function renderTargetSim(
  sim: PreparedBatchFile['sim'],
  target: Pick<PreparedTarget, 'index' | 'file' | 'name'>,
): SimControls | undefined {
  if (!sim) return undefined;
  if (sim.scenario === undefined) return { ...sim } as SimControls;
  const base = target.file.slice(target.file.lastIndexOf('/') + 1);
  const stem = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  const fn = (target.name ?? stem).replace(/[^A-Za-z0-9._-]/g, '_');
  const scenario = sim.scenario
    .replaceAll('{{function}}', fn)
    .replaceAll('{{index}}', String(target.index))
    .slice(0, 100);
  return { ...sim, scenario };
}
