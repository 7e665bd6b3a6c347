import { TARGET_STATUSES, type TargetStatus } from '@tern/shared/batch/batch-result';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BatchGates } from './batch-gates.ts';

/**
 * What a dispatcher measures: the concurrency its gates allow (adaptive and fixed apart), the
 * targets past them, and targets finished by status. Labels come from fixed sets; never a batch,
 * target or user id.
 */
export function createBatchMetrics(registry: Registry, gates: BatchGates) {
  const registers = [registry];
  const targets = new Counter({
    name: 'tern_batch_targets_total',
    help: 'Batch targets this dispatcher finished, by status',
    labelNames: ['status'],
    registers,
  });
  // Every status reads 0 from the start, so rates and alerts see the series before the first.
  for (const status of TARGET_STATUSES) targets.inc({ status }, 0);
  new Gauge({
    name: 'tern_batch_concurrency_limit',
    help: 'Batch targets the dispatcher lets run at once: adaptive gates (vLLM load) and fixed ones',
    labelNames: ['mode'],
    registers,
    collect() {
      const totals = gates.totals();
      this.set({ mode: 'adaptive' }, totals.adaptiveLimit);
      this.set({ mode: 'fixed' }, totals.fixedLimit);
    },
  });
  new Gauge({
    name: 'tern_batch_targets_in_flight',
    help: 'Batch targets past the concurrency gate whose turn has not ended',
    registers,
    collect() {
      this.set(gates.totals().held);
    },
  });
  return {
    registry,
    targetFinished: (status: TargetStatus) => targets.inc({ status }),
  };
}

export type BatchMetrics = ReturnType<typeof createBatchMetrics>;
