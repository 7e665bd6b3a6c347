import type { JobType, Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

/** Job states as BullMQ counts them (`Queue.getJobCounts`). */
const STATES: JobType[] = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
];

/**
 * Depth, age of the oldest waiting job and attached workers of BullMQ queues, sampled from Redis
 * when Prometheus scrapes (nothing runs between scrapes). The same numbers BullMQ's own
 * `exportPrometheusMetrics` reads, under Tern's prefix and in one registry. Every API process
 * reports the same values, so dashboards take the `max` over instances.
 */
export function registerQueueMetrics(registry: Registry, queues: readonly Queue[]): void {
  const registers = [registry];
  new Gauge({
    name: 'tern_queue_jobs',
    help: 'Jobs in a queue by state',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...STATES)));
      queues.forEach((queue, i) => {
        for (const state of STATES) {
          this.set({ queue: queue.name, state }, counts[i]?.[state] ?? 0);
        }
      });
    },
  });
  new Gauge({
    name: 'tern_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting for a worker (0 when none waits)',
    labelNames: ['queue'],
    registers,
    async collect() {
      const now = Date.now();
      const oldest = await Promise.all(queues.map((q) => q.getJobs(['wait'], 0, 0, true)));
      queues.forEach((queue, i) => {
        const job = oldest[i]?.[0];
        this.set({ queue: queue.name }, job ? Math.max(0, now - job.timestamp) / 1000 : 0);
      });
    },
  });
  new Gauge({
    name: 'tern_queue_workers',
    help: 'Worker connections attached to a queue',
    labelNames: ['queue'],
    registers,
    async collect() {
      const counts = await Promise.all(queues.map((q) => q.getWorkersCount()));
      queues.forEach((queue, i) => {
        this.set({ queue: queue.name }, counts[i] ?? 0);
      });
    },
  });
}
