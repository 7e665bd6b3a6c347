import { type ConnectionOptions, FlowProducer } from 'bullmq';
import { z } from 'zod';
import { batchIdSchema, batchTargetIdSchema } from '../protocol/batch-api.ts';

/**
 * A batch runs as BullMQ flows: one parent job per flow (the first run, then one per retry) whose
 * children are the targets' attempts. Dispatchers process both: a child works on one target, the
 * parent runs once every child of its flow is through and ends the batch (batch-store.ts
 * `finishBatch`).
 */
export const BATCH_QUEUE = 'tern-batches';
export const BATCH_TARGET_QUEUE = 'tern-batch-targets';

export const batchJobDataSchema = z.object({
  batchId: batchIdSchema,
  flowNo: z.number().int().positive(),
});
export type BatchJobData = z.infer<typeof batchJobDataSchema>;

export const batchTargetJobDataSchema = z.object({
  batchId: batchIdSchema,
  targetId: batchTargetIdSchema,
  attempt: z.number().int().positive(),
});
export type BatchTargetJobData = z.infer<typeof batchTargetJobDataSchema>;

/** Deterministic ids: adding the same flow again (a retried request) adds nothing. */
export const batchJobId = (batchId: string, flowNo: number) => `batch-${batchId}-${flowNo}`;
export const batchTargetJobId = (batchId: string, targetId: string, attempt: number) =>
  `${batchId}-${targetId}-a${attempt}`;

const retries = { attempts: 5, backoff: { type: 'exponential', delay: 1000 } } as const;
const bounded = { removeOnComplete: { count: 10_000 }, removeOnFail: { count: 10_000 } } as const;

export type BatchFlow = {
  batchId: string;
  targets: readonly { id: string; attempt: number }[];
  /** 1 for the batch's first run, the store's new `attemptFlow` for a retry. */
  flowNo: number;
};

/**
 * Adds a batch's flow: the parent in BATCH_QUEUE, one child per target in BATCH_TARGET_QUEUE.
 * A child that fails for good (its retries spent) still lets the parent run, so the batch always
 * ends; the dispatcher records such a target as an error. Takes an open FlowProducer (callers
 * adding many flows keep one) or connection options (a producer is opened for this call).
 */
export async function addBatchFlow(
  connection: FlowProducer | ConnectionOptions,
  flow: BatchFlow,
): Promise<void> {
  const producer =
    connection instanceof FlowProducer ? connection : new FlowProducer({ connection });
  try {
    const parent: BatchJobData = { batchId: flow.batchId, flowNo: flow.flowNo };
    await producer.add({
      name: 'batch',
      queueName: BATCH_QUEUE,
      data: parent,
      opts: { jobId: batchJobId(flow.batchId, flow.flowNo), ...retries, ...bounded },
      children: flow.targets.map((t) => {
        const data: BatchTargetJobData = {
          batchId: flow.batchId,
          targetId: t.id,
          attempt: t.attempt,
        };
        return {
          name: 'target',
          queueName: BATCH_TARGET_QUEUE,
          data,
          opts: {
            jobId: batchTargetJobId(flow.batchId, t.id, t.attempt),
            ...retries,
            ...bounded,
            ignoreDependencyOnFailure: true,
          },
        };
      }),
    });
  } finally {
    if (producer !== connection) await producer.close();
  }
}
