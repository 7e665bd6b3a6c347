import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@tern/shared/config/config';
import { dependencyChecks, logReadinessChange } from '@tern/shared/http/dependency-checks';
import { startOpsServer } from '@tern/shared/http/ops-server';
import { flagCheck, readiness } from '@tern/shared/http/readiness';
import { ModelRegistry } from '@tern/shared/llm/model-registry';
import { createLogger } from '@tern/shared/obs/logger';
import { exitOnStartupError } from '@tern/shared/process/startup';
import { noteCapacityWait } from '@tern/shared/queue/capacity-wait';
import { sweepOutbox } from '@tern/shared/queue/enqueue-outbox';
import { fairStarted, UserSlots } from '@tern/shared/queue/fair-queue';
import {
  TURN_QUEUE,
  type TurnJobData,
  turnJobDataSchema,
  turnJobId,
} from '@tern/shared/queue/turn-queue';
import { providerLimiter } from '@tern/shared/ratelimit/provider-limiter';
import { connectRedis } from '@tern/shared/redis/connect-redis';
import { openSessionStore } from '@tern/shared/session/open-session-store';
import { openTurnQueue } from '@tern/shared/session/requeue-turn';
import { DelayedError, Job, Worker } from 'bullmq';
import { probeSandbox, sandboxPolicyFor } from './tools/sandbox/probe-sandbox.ts';
import { DEFAULT_SANDBOX_POLICY } from './tools/sandbox/sandbox-types.ts';
import { CancelListener } from './turn/cancel-listener.ts';
import { runSessionInputs } from './turn/run-session-inputs.ts';
import { workerObservability } from './turn/worker-observability.ts';
import { WorkspaceCache } from './turn/workspace-cache.ts';

/** How long a job waits before retrying when another worker is running its session. */
const LEASE_HELD_RETRY_MS = 100;
/** A parked job (its user at their running-turn limit) retries on its own after this long. */
const PARKED_FALLBACK_MS = 30_000;

export async function startWorker() {
  const config = loadConfig();
  const logger = createLogger('worker', config.LOG_LEVEL, { logPrompts: config.TERN_LOG_PROMPTS });
  const obs = await workerObservability(config, logger);
  const redis = await connectRedis(config.REDIS_URL, 'tern-worker');
  const store = openSessionStore(redis, config, logger, { onCommit: obs.onCommit });
  const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const sandbox = await probeSandbox({ allowUnsafe: config.TERN_UNSAFE_NO_SANDBOX });
  if (sandbox.mode === 'bwrap') logger.info({ sandbox: sandbox.mode }, sandbox.message);
  else logger.warn({ sandbox: sandbox.mode }, sandbox.message);
  const cancels = await CancelListener.start(redis);
  const stopping = new AbortController();
  const deps = {
    cancels,
    config,
    sandbox: sandboxPolicyFor(sandbox, {
      ...DEFAULT_SANDBOX_POLICY,
      sharedPaths: config.TERN_SANDBOX_SHARED_PATHS,
      readOnlyPaths: config.TERN_SANDBOX_READONLY_PATHS,
      onEnd: obs.onSandboxEnd,
    }),
    store,
    models: new ModelRegistry(config, {
      limiter: providerLimiter(redis, config, logger, obs.metrics?.providers),
    }),
    workspaces: new WorkspaceCache(join(config.TERN_DATA_DIR, 'workspaces')),
    workerId,
    logger,
    obs: {
      ...obs.turns,
      // An input drained from another input's job continues the trace its own job carries.
      traceparentOf: async (sessionId: string, inputSeq: number) =>
        (await Job.fromId<TurnJobData>(worker, turnJobId(sessionId, inputSeq)))?.data.traceparent,
    },
    slots: new UserSlots(redis, {
      limit: config.USER_MAX_RUNNING_TURNS,
      ttlMs: config.LEASE_TTL_MS,
    }),
    stopping: stopping.signal,
    wake: (jobId: string) => {
      Job.fromId(worker, jobId)
        .then((job) => job?.promote())
        .catch(() => {});
    },
  };

  const worker = new Worker<TurnJobData>(
    TURN_QUEUE,
    async (job: Job<TurnJobData>, token?: string) => {
      const data = turnJobDataSchema.parse(job.data);
      const pickedAt = Date.now();
      // Left the queue: the user's count of queued turns goes down (once per job).
      if (job.attemptsStarted <= 1) {
        fairStarted(redis, data.priority, data.owner).catch(() => {});
      }
      const deferred = await runSessionInputs(deps, data.sessionId, data, job.id);
      // Counted once per job, at the run that was not deferred (a deferral is not a pickup).
      if (deferred === undefined) {
        obs.metrics?.queueWait.observe({ queue: TURN_QUEUE }, (pickedAt - job.timestamp) / 1000);
      }
      if (deferred === 'lease_held') {
        // The session's current runner drains this input too; re-check shortly so that an input
        // that arrived just as it released the lease is never stranded.
        await job.moveToDelayed(Date.now() + LEASE_HELD_RETRY_MS, token);
        throw new DelayedError();
      }
      if (deferred === 'handed_back') {
        // This worker is stopping: the job is due again at once, for any other worker.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (deferred === 'parked') {
        // Woken by the end of one of its user's turns; the timer only covers a lost wake-up.
        await job.moveToDelayed(Date.now() + PARKED_FALLBACK_MS, token);
        throw new DelayedError();
      }
      if (typeof deferred === 'object') {
        // The provider has no capacity for a while: the job waits in the queue, not in a slot.
        // Noted first, so that a cancel meanwhile can wake it (capacity-wait.ts).
        if (job.id) await noteCapacityWait(redis, data.sessionId, job.id, deferred.retryAfterMs);
        await job.moveToDelayed(Date.now() + deferred.retryAfterMs, token);
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
  worker.on('stalled', () => obs.metrics?.stalledJobs.inc({ queue: TURN_QUEUE }));
  await worker.waitUntilReady();

  const checks = {
    ...dependencyChecks({ redis, blobs: store.blobs }, config, logReadinessChange(logger)),
    queue: flagCheck(() => worker.isRunning(), 'not taking jobs'),
  };
  const ops = await startOpsServer(config.TERN_HOST, config.WORKER_METRICS_PORT, {
    ready: () => readiness(checks),
    metrics: obs.metrics?.registry,
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
    logger.info(
      { graceMs: config.SHUTDOWN_GRACE_MS },
      'worker shutting down: taking no new turns, finishing current ones',
    );
    clearInterval(sweep);
    // Turns still running after the grace period are handed back, not waited for.
    const grace = setTimeout(() => {
      logger.info('grace period over: handing back unfinished turns');
      stopping.abort();
    }, config.SHUTDOWN_GRACE_MS);
    await worker.close();
    clearTimeout(grace);
    await outboxQueue.close();
    // Manifests and snapshot packs of the last commits finish before the process goes.
    await store.mirror.settled().catch(() => {});
    cancels.close();
    await obs.tracing.shutdown().catch(() => {});
    ops.close();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return { worker, shutdown };
}

if (import.meta.main) startWorker().catch(exitOnStartupError('worker'));
