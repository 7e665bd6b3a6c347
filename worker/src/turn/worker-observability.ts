import type { Config } from '@tern/shared/config/config';
import type { Logger } from '@tern/shared/obs/logger';
import { createRegistry } from '@tern/shared/obs/metrics';
import { startTracing } from '@tern/shared/obs/tracing';
import { createWorkerMetrics } from '@tern/shared/obs/worker-metrics';
import type { CommitObserver } from '@tern/shared/session/session-store';
import type { SandboxEnd } from '../tools/sandbox/sandbox-types.ts';
import type { TurnObservability } from './turn-telemetry.ts';

/** How a sandboxed command ended when something stopped it rather than the command itself. */
const KILLS: ReadonlySet<SandboxEnd> = new Set([
  'timeout',
  'cancelled',
  'output_limit',
  'memory',
  'cpu',
]);

/**
 * A worker's metrics registry (unless TERN_METRICS=0) and tracing (when an OTLP endpoint is set),
 * with the hooks the session store and the sandbox report through.
 */
export async function workerObservability(config: Config, logger: Logger) {
  const metrics = config.TERN_METRICS ? createWorkerMetrics(createRegistry()) : undefined;
  const tracing = await startTracing(config, 'tern-worker', (message) =>
    logger.warn({ err: message }, 'trace export failed'),
  );
  const onCommit: CommitObserver | undefined = metrics
    ? ({ ms, bytes, result }) => {
        metrics.commitDuration.observe({ result }, ms / 1000);
        if (result === 'committed') metrics.commitBytes.observe(bytes);
      }
    : undefined;
  const onSandboxEnd = (end: SandboxEnd) => {
    if (KILLS.has(end)) metrics?.sandboxKills.inc({ reason: end });
  };
  const turns: TurnObservability = { metrics, tracing };
  return { metrics, tracing, onCommit, onSandboxEnd, turns };
}
