import { join } from 'node:path';
import { BatchStore } from '@tern/shared/batch/batch-store';
import { loadConfig } from '@tern/shared/config/config';
import { dependencyChecks, logReadinessChange } from '@tern/shared/http/dependency-checks';
import { startOpsServer } from '@tern/shared/http/ops-server';
import { flagCheck, readiness } from '@tern/shared/http/readiness';
import { createLogger } from '@tern/shared/obs/logger';
import { createRegistry } from '@tern/shared/obs/metrics';
import { exitOnStartupError } from '@tern/shared/process/startup';
import {
  BATCH_QUEUE,
  BATCH_TARGET_QUEUE,
  type BatchJobData,
  type BatchTargetJobData,
  batchJobDataSchema,
  batchTargetJobDataSchema,
} from '@tern/shared/queue/batch-queue';
import { connectRedis } from '@tern/shared/redis/connect-redis';
import { openSessionStore } from '@tern/shared/session/open-session-store';
import { openTurnQueue } from '@tern/shared/session/requeue-turn';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { BatchCancelWatch } from './batch/batch-cancel-watch.ts';
import { BatchGates } from './batch/batch-gates.ts';
import { createBatchMetrics } from './batch/batch-metrics.ts';
import { finishBatchFlow } from './batch/finish-batch.ts';
import { type DispatcherDeps, processTarget, recordTargetError } from './batch/process-target.ts';
import { claimVerifyScratch } from './batch/verify-scratch.ts';
import { readVllmLoadAt, vllmMetricsUrlFor } from './batch/vllm-load.ts';
import { HandedBackError } from './batch/wait-for-turn.ts';
import { probeSandbox, sandboxPolicyFor } from './tools/sandbox/probe-sandbox.ts';
import { DEFAULT_SANDBOX_POLICY } from './tools/sandbox/sandbox-types.ts';

/**
 * The batch dispatcher (`tern dispatcher`): works on batch targets (BATCH_TARGET_QUEUE) and
 * ends batches (BATCH_QUEUE). It runs no agent itself: each target's turn is queued for the
 * workers like any user's, at batch priority, and the dispatcher waits for it, then verifies
 * the tests it wrote in the sandbox. Stateless like a worker: everything it does is recorded in
 * Redis and the blob store under ids derived from the batch, so another dispatcher resumes any
 * target of one that died or stopped.
 */
export async function startDispatcher() {
  const config = loadConfig();
  const logger = createLogger('dispatcher', config.LOG_LEVEL, {
    logPrompts: config.TERN_LOG_PROMPTS,
  });
  const redis = await connectRedis(config.REDIS_URL, 'tern-dispatcher');
  const store = openSessionStore(redis, config, logger);
  const batches = new BatchStore(redis, store.blobs);
  // Verification runs tests exactly as the workers' bash tool does: the same sandbox and paths.
  const sandbox = await probeSandbox({ allowUnsafe: config.TERN_UNSAFE_NO_SANDBOX });
  if (sandbox.mode === 'bwrap') logger.info({ sandbox: sandbox.mode }, sandbox.message);
  else logger.warn({ sandbox: sandbox.mode }, sandbox.message);
  const policy = sandboxPolicyFor(sandbox, {
    ...DEFAULT_SANDBOX_POLICY,
    sharedPaths: config.TERN_SANDBOX_SHARED_PATHS,
    readOnlyPaths: config.TERN_SANDBOX_READONLY_PATHS,
  });

  const gates = new BatchGates({
    maxTargets: config.DISPATCHER_MAX_TARGETS,
    pollMs: config.BATCH_POLL_MS,
    readLoad: (url) => readVllmLoadAt(url, Math.max(1000, config.BATCH_POLL_MS * 2)),
    onNote: (url, note, detail) => {
      const fields = { metricsUrl: url, ...(detail ? { detail } : {}) };
      if (note === 'adaptive') logger.info(fields, 'batch concurrency follows the server’s load');
      else if (note === 'no_metrics') {
        logger.warn(fields, 'the model server publishes no vLLM load: batch concurrency is fixed');
      } else logger.warn(fields, 'the model server’s metrics are unreachable: concurrency held');
    },
  });
  const registry = config.TERN_METRICS ? createRegistry() : undefined;
  const metrics = registry ? createBatchMetrics(registry, gates) : undefined;
  const cancels = new BatchCancelWatch(
    async (id) => (await batches.meta(id))?.status,
    config.BATCH_POLL_MS,
  );
  const turns = openTurnQueue(config.REDIS_URL);
  const stopping = new AbortController();
  const deps: DispatcherDeps = {
    store,
    batches,
    turns,
    gates,
    cancels,
    policy,
    scratch: await claimVerifyScratch(join(config.TERN_DATA_DIR, 'batch-verify')),
    pollMs: config.BATCH_POLL_MS,
    metricsUrlFor: (model) => vllmMetricsUrlFor(config, model),
    logger,
    metrics,
    stopping: stopping.signal,
  };

  const connection = { url: config.REDIS_URL, maxRetriesPerRequest: null };
  // As for turn jobs (worker-main.ts): a dead dispatcher's jobs come back within about a lease,
  // and may stall any number of times, since a target's progress is in Redis, not in the job.
  const locking = {
    lockDuration: config.LEASE_TTL_MS,
    stalledInterval: Math.max(250, Math.floor(config.LEASE_TTL_MS / 3)),
    maxStalledCount: 1_000,
  };
  const targetWorker = new Worker<BatchTargetJobData>(
    BATCH_TARGET_QUEUE,
    async (job: Job<BatchTargetJobData>, token?: string) => {
      const parsed = batchTargetJobDataSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`bad target job: ${parsed.error.message}`);
      try {
        return await processTarget(deps, parsed.data);
      } catch (error) {
        if (error instanceof HandedBackError) {
          // Due again at once, for any other dispatcher; it resumes where this one stopped.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        // The last try records the target as an error, so the flow's parent still ends the batch.
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          logger.error({ ...parsed.data, err: String(error) }, 'batch target failed for good');
          await recordTargetError(deps, parsed.data, error);
          return 'missing';
        }
        throw error;
      }
    },
    { connection, concurrency: config.DISPATCHER_MAX_TARGETS, ...locking },
  );
  const batchWorker = new Worker<BatchJobData>(
    BATCH_QUEUE,
    async (job: Job<BatchJobData>) => {
      const parsed = batchJobDataSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`bad batch job: ${parsed.error.message}`);
      return (await finishBatchFlow({ batches, logger }, parsed.data)).kind;
    },
    { connection, concurrency: 4, ...locking },
  );
  for (const [name, worker] of [
    ['target', targetWorker],
    ['batch', batchWorker],
  ] as const) {
    worker.on('failed', (job, error) => {
      if (error instanceof DelayedError) return;
      logger.warn({ jobId: job?.id, err: error.message }, `batch ${name} job failed`);
    });
    worker.on('error', (error) => logger.error({ err: error.message }, `${name} worker error`));
  }
  await Promise.all([targetWorker.waitUntilReady(), batchWorker.waitUntilReady()]);

  const checks = {
    ...dependencyChecks({ redis, blobs: store.blobs }, config, logReadinessChange(logger)),
    queue: flagCheck(
      () => targetWorker.isRunning() && batchWorker.isRunning(),
      'not taking batch jobs',
    ),
  };
  const ops = await startOpsServer(config.TERN_HOST, config.DISPATCHER_METRICS_PORT, {
    ready: () => readiness(checks),
    metrics: registry,
  });
  const address = ops.address();
  const opsPort =
    typeof address === 'object' && address ? address.port : config.DISPATCHER_METRICS_PORT;
  logger.info(
    { maxTargets: config.DISPATCHER_MAX_TARGETS, sandbox: sandbox.mode, opsPort },
    'dispatcher ready',
  );

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    logger.info(
      'dispatcher shutting down: taking no new targets, handing back the ones in progress',
    );
    // Targets wait on workers, not here: handing them back at once loses nothing, and another
    // dispatcher picks them up where this one stopped (their turns keep running meanwhile).
    stopping.abort();
    await Promise.all([targetWorker.close(), batchWorker.close()]);
    await turns.close();
    gates.close();
    cancels.close();
    await store.mirror.settled().catch(() => {});
    ops.close();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return { targetWorker, batchWorker, shutdown };
}

if (import.meta.main) startDispatcher().catch(exitOnStartupError('dispatcher'));
