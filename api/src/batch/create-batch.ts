import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { prepareBatchInputs } from '@tern/shared/batch/batch-inputs';
import type { BatchJobRequest } from '@tern/shared/batch/batch-job-request';
import type { PreparedBatchInput, PreparedTarget } from '@tern/shared/batch/batch-prepared';
import type { BatchStore } from '@tern/shared/batch/batch-store';
import { suggestTestFile } from '@tern/shared/batch/prompt-template';
import { DEFAULT_SNAPSHOT_LIMITS, type SnapshotLimits } from '@tern/shared/batch/snapshot';
import type { Config } from '@tern/shared/config/config';
import { batchTargetIdFor } from '@tern/shared/protocol/batch-api';
import { addBatchFlow } from '@tern/shared/queue/batch-queue';
import { blobKeys } from '@tern/shared/session/session-keys';
import { seedWorkspace } from '@tern/shared/session/workspace-store';
import type { FlowProducer } from 'bullmq';
import { snapshotSeedFiles } from './snapshot-seed-files.ts';

export type CreateBatchDeps = {
  config: Config;
  batches: BatchStore;
  flows: FlowProducer;
};

/**
 * Where a tarball is unpacked while its batch is prepared: under the data dir, one folder per
 * batch, removed once the snapshot is in the workspace store.
 */
export const stagingDir = (config: Config, batchId: string) =>
  join(resolve(config.TERN_DATA_DIR), 'batch-staging', batchId);

/**
 * A snapshot must also fit a workspace: the target sessions start from it, and a worker refuses
 * to store a workspace over WORKSPACE_MAX_FILES / WORKSPACE_MAX_BYTES.
 */
export function snapshotLimits(config: Config): SnapshotLimits {
  return {
    maxBytes: Math.min(DEFAULT_SNAPSHOT_LIMITS.maxBytes, config.WORKSPACE_MAX_BYTES),
    maxFiles: Math.min(DEFAULT_SNAPSHOT_LIMITS.maxFiles, config.WORKSPACE_MAX_FILES),
  };
}

/**
 * `POST /v1/batches` after validation: the snapshot laid out and checked, its targets and prompts
 * (prepareBatchInputs), the snapshot stored once as a workspace under the batch id (the targets'
 * sessions name it as their ancestor), then the batch itself (prepared.json, meta, targets) and
 * its flow. Every refusal is a TernError with a batch code, thrown before anything is visible.
 */
export async function createBatch(
  deps: CreateBatchDeps,
  request: BatchJobRequest,
  owner: string,
): Promise<string> {
  const { config, batches } = deps;
  const id = batches.newBatchId();
  const staging = stagingDir(config, id);
  let snapshotTree: string;
  let prepared: PreparedBatchInput;
  try {
    const inputs = await prepareBatchInputs(request, {
      unpackTo: staging,
      allowedRoots: config.BATCH_ALLOWED_DIRS,
      limits: snapshotLimits(config),
    });
    const framework = inputs.framework.framework;
    const targets: PreparedTarget[] = [];
    for (const [index, target] of inputs.targets.entries()) {
      targets.push({
        id: batchTargetIdFor(index),
        index,
        file: target.file,
        ...(target.name !== undefined ? { name: target.name } : {}),
        testFile: suggestTestFile(target, framework),
        prompt: await inputs.promptFor(target),
      });
    }
    const base = await seedWorkspace(
      batches.blobs,
      id,
      await snapshotSeedFiles(inputs.snapshot),
    ).catch(async (error: unknown) => {
      // Blobs of a half-stored snapshot belong to no batch: nothing would ever delete them.
      await batches.blobs.deletePrefix(blobKeys.sessionPrefix(id)).catch(() => 0);
      throw error;
    });
    snapshotTree = base.tree;
    prepared = {
      version: 1,
      targets,
      framework,
      testCommand: inputs.framework.command,
      budgets: request.budgets,
      allowTouchingSource: request.allowTouchingSource,
      model: request.model ?? config.TERN_MODEL,
      ...(request.sim ? { sim: request.sim } : {}),
      concurrency: request.concurrency,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const meta = await batches.create({
    id,
    owner,
    title: request.title,
    snapshotTree,
    request: request as unknown as Record<string, unknown>,
    prepared,
  });
  try {
    await addBatchFlow(deps.flows, {
      batchId: id,
      flowNo: 1,
      targets: prepared.targets.map((t) => ({ id: t.id, attempt: 1 })),
    });
  } catch (error) {
    // Without its flow the batch would show `running` for ever; it ends now, and the caller
    // gets the error and may submit again.
    await batches.setStatus(id, 'cancelled', Date.now()).catch(() => false);
    throw error;
  }
  return meta.id;
}
