import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@tern/shared/config/config';
import { redisReady, startOpsServer } from '@tern/shared/http/ops-server';
import { ModelRegistry } from '@tern/shared/llm/model-registry';
import { createLogger } from '@tern/shared/obs/logger';
import { exitOnStartupError } from '@tern/shared/process/startup';
import { sweepOutbox } from '@tern/shared/queue/enqueue-outbox';
import { TURN_QUEUE, type TurnJobData, turnJobDataSchema } from '@tern/shared/queue/turn-queue';
import { connectRedis } from '@tern/shared/redis/connect-redis';
import { openSessionStore } from '@tern/shared/session/open-session-store';
import { openTurnQueue } from '@tern/shared/session/requeue-turn';
import { DelayedError, type Job, Worker } from 'bullmq';
import { probeSandbox, sandboxPolicyFor } from './tools/sandbox/probe-sandbox.ts';
import { DEFAULT_SANDBOX_POLICY } from './tools/sandbox/sandbox-types.ts';
import { CancelListener } from './turn/cancel-listener.ts';
import { runSessionInputs } from './turn/run-session-inputs.ts';
import { WorkspaceCache } from './turn/workspace-cache.ts';

/** How long a job waits before retrying when another worker is running its session. */
const LEASE_HELD_RETRY_MS = 100;

export async function startWorker() {
  const config = loadConfig();
  const logger = createLogger('worker', config.LOG_LEVEL);
  const redis = await connectRedis(config.REDIS_URL, 'tern-worker');
  const store = openSessionStore(redis, config, logger);
  const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const sandbox = await probeSandbox({ allowUnsafe: config.TERN_UNSAFE_NO_SANDBOX });
  if (sandbox.mode === 'bwrap') logger.info({ sandbox: sandbox.mode }, sandbox.message);
  else logger.warn({ sandbox: sandbox.mode }, sandbox.message);
  const cancels = await CancelListener.start(redis);
  const deps = {
    cancels,
    config,
    sandbox: sandboxPolicyFor(sandbox, {
      ...DEFAULT_SANDBOX_POLICY,
      sharedPaths: config.TERN_SANDBOX_SHARED_PATHS,
    }),
    store,
    models: new ModelRegistry(config),
    workspaces: new WorkspaceCache(join(config.TERN_DATA_DIR, 'workspaces')),
    workerId,
    logger,
  };

  const worker = new Worker<TurnJobData>(
    TURN_QUEUE,
    async (job: Job<TurnJobData>, token?: string) => {
      const data = turnJobDataSchema.parse(job.data);
      const deferred = await runSessionInputs(deps, data.sessionId);
      if (deferred === 'lease_held') {
        // The session's current runner drains this input too; re-check shortly so that an input
        // that arrived just as it released the lease is never stranded.
        await job.moveToDelayed(Date.now() + LEASE_HELD_RETRY_MS, token);
        throw new DelayedError();
      }
    },
    {
      connection: { url: config.REDIS_URL, maxRetriesPerRequest: null },
      concurrency: config.WORKER_CONCURRENCY,
      autorun: true,
      // A job whose worker died is handed to another worker when its lock lapses. The lock lives
      // as long as the session lease, so the job comes back about when its session is free again;
      // BullMQ's defaults (30 s lock, 30 s stall checks) would leave the turn dead for a minute.
      // A session's progress is in its log, so a job may stall any number of times without losing
      // work; the default (fail after one stall) would strand the input of a worker killed twice.
      lockDuration: config.LEASE_TTL_MS,
      stalledInterval: Math.max(250, Math.floor(config.LEASE_TTL_MS / 3)),
      maxStalledCount: 1_000,
    },
  );
  worker.on('failed', (job, error) => {
    if (error instanceof DelayedError) return;
    logger.error({ jobId: job?.id, err: error.message }, 'turn job failed');
  });
  worker.on('error', (error) => logger.error({ err: error.message }, 'worker error'));
  await worker.waitUntilReady();

  const ops = await startOpsServer(config.TERN_HOST, config.WORKER_METRICS_PORT, {
    ready: async () => (await redisReady(() => redis.ping())) && worker.isRunning(),
  });
  const address = ops.address();
  const opsPort =
    typeof address === 'object' && address ? address.port : config.WORKER_METRICS_PORT;
  logger.info({ workerId, concurrency: config.WORKER_CONCURRENCY, opsPort }, 'worker ready');

  // Turns whose API request died between accepting the message and queueing its job.
  const outboxQueue = openTurnQueue(config.REDIS_URL);
  const sweep = setInterval(
    () => {
      sweepOutbox(redis, store, outboxQueue, {
        graceMs: config.ENQUEUE_OUTBOX_GRACE_MS,
        owner: workerId,
      }).then(
        (result) => {
          if (result?.requeued.length)
            logger.warn({ sessions: result.requeued }, 'queued turns whose API request died');
        },
        (error: unknown) => logger.warn({ err: String(error) }, 'outbox sweep failed'),
      );
    },
    Math.max(100, Math.floor(config.ENQUEUE_OUTBOX_GRACE_MS / 2)),
  );
  sweep.unref();

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    logger.info('worker shutting down: finishing current turns');
    clearInterval(sweep);
    await worker.close();
    await outboxQueue.close();
    // Manifests and snapshot packs of the last commits finish before the process goes.
    await store.mirror.settled().catch(() => {});
    cancels.close();
    ops.close();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return { worker, shutdown };
}

if (import.meta.main) startWorker().catch(exitOnStartupError('worker'));
