import type { BatchStore, FinishBatchResult } from '@tern/shared/batch/batch-store';
import type { Logger } from '@tern/shared/obs/logger';
import type { BatchJobData } from '@tern/shared/queue/batch-queue';

/**
 * The parent job of a batch flow, run by BullMQ once every target job of the flow is through
 * (a target job never fails for good: its last failure is recorded as the target's error, see
 * dispatcher-main.ts). Marks the batch `done`, or `cancelled` after a cancel, and announces it;
 * the parent of a flow a retry superseded, or one run again, changes nothing.
 */
export async function finishBatchFlow(
  deps: { batches: BatchStore; logger: Logger },
  job: BatchJobData,
): Promise<FinishBatchResult> {
  const result = await deps.batches.finishBatch(job.batchId, job.flowNo);
  if (result.kind === 'finished') {
    deps.logger.info(
      { batchId: job.batchId, flowNo: job.flowNo, status: result.status },
      'batch finished',
    );
  }
  return result;
}
