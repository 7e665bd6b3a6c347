import { Counter, Gauge, type Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.ts';
import { BoundedLabel, bucketsOf } from './metrics.ts';
import { createProviderMetrics, type ProviderMetrics } from './provider-metrics.ts';

/** Built-in tools always keep their own label value; proposed tools share a bounded pool. */
const BUILT_IN_TOOLS = [
  'read_file',
  'write_file',
  'edit_file',
  'list_files',
  'glob',
  'grep',
  'bash',
  'propose_tool',
];

/**
 * What a worker measures: model calls, tools, hooks, turns, the lease, commits, event publishes,
 * queue waits and sandbox kills. Labels are bounded: provider (four), model and tool names
 * (capped, see BoundedLabel), outcomes from fixed sets. Never a session, turn or user id.
 */
export function createWorkerMetrics(registry: Registry) {
  const registers = [registry];
  const models = new BoundedLabel(50);
  const tools = new BoundedLabel(50, BUILT_IN_TOOLS);
  // Counted into a plain number many times a second (every batch of token deltas) and handed to
  // the counter only when it is read, so a publish costs an addition, not a labelled increment.
  let published = 0;
  new Counter({
    name: 'tern_published_events_total',
    help: 'Events appended to session streams',
    registers,
    collect() {
      if (published > 0) this.inc(published);
      published = 0;
    },
  });
  return {
    registry,
    /** `model` label value for a user-chosen model name. */
    modelLabel: (model: string) => models.value(model),
    toolLabel: (tool: string) => tools.value(tool),
    modelCalls: new Counter({
      name: 'tern_model_calls_total',
      help: 'Model calls by provider, model and outcome (ok, length, content_filter, aborted, error)',
      labelNames: ['provider', 'model', 'outcome'],
      registers,
    }),
    modelErrors: new Counter({
      name: 'tern_model_errors_total',
      help: 'Model calls that failed, by provider and error kind (the LLM layer taxonomy)',
      labelNames: ['provider', 'kind'],
      registers,
    }),
    modelRetries: new Counter({
      name: 'tern_model_retries_total',
      help: 'Model calls tried again after a retryable failure, by provider and error kind',
      labelNames: ['provider', 'kind'],
      registers,
    }),
    ttft: new BucketHistogram({
      name: 'tern_model_ttft_seconds',
      help: 'Time from the start of a model call to its first output',
      labelNames: ['provider', 'model'],
      buckets: bucketsOf('ttft'),
      registers,
    }),
    modelDuration: new BucketHistogram({
      name: 'tern_model_call_duration_seconds',
      help: 'Duration of a model call, retries included',
      labelNames: ['provider', 'model'],
      buckets: bucketsOf('modelCall'),
      registers,
    }),
    tokens: new Counter({
      name: 'tern_model_tokens_total',
      help: 'Tokens by provider, model and type (input, output, cached, reasoning)',
      labelNames: ['provider', 'model', 'type'],
      registers,
    }),
    cost: new Counter({
      name: 'tern_model_cost_usd_total',
      help: 'Cost of model calls in USD, from the price table',
      labelNames: ['provider', 'model'],
      registers,
    }),
    toolCalls: new Counter({
      name: 'tern_tool_calls_total',
      help: 'Tool calls by tool and outcome (ok, error, or why it did not run)',
      labelNames: ['tool', 'outcome'],
      registers,
    }),
    toolDuration: new BucketHistogram({
      name: 'tern_tool_duration_seconds',
      help: 'Duration of tool calls that ran',
      labelNames: ['tool'],
      buckets: bucketsOf('tool'),
      registers,
    }),
    hookDuration: new BucketHistogram({
      name: 'tern_hook_duration_seconds',
      help: 'Duration of hook handlers by point',
      labelNames: ['point'],
      buckets: bucketsOf('hook'),
      registers,
    }),
    hookProblems: new Counter({
      name: 'tern_hook_problems_total',
      help: 'Hooks that overran their budget or threw, by point and problem',
      labelNames: ['point', 'problem'],
      registers,
    }),
    turns: new Counter({
      name: 'tern_turns_total',
      help: 'Turns that ended or paused on this worker, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    turnDuration: new BucketHistogram({
      name: 'tern_turn_duration_seconds',
      help: 'Duration of a turn on one worker (until it ends or pauses for approval)',
      labelNames: ['outcome'],
      buckets: bucketsOf('turn'),
      registers,
    }),
    turnSteps: new BucketHistogram({
      name: 'tern_turn_steps',
      help: 'Model calls per turn',
      labelNames: ['outcome'],
      buckets: bucketsOf('steps'),
      registers,
    }),
    activeTurns: new Gauge({
      name: 'tern_worker_active_turns',
      help: 'Turns this worker is running now',
      registers,
    }),
    sessionLogEntries: new BucketHistogram({
      name: 'tern_session_log_entries',
      help: "Entries in a session's log when one of its turns ends",
      buckets: bucketsOf('logEntries'),
      registers,
    }),
    leaseAcquisitions: new Counter({
      name: 'tern_lease_acquisitions_total',
      help: 'Attempts to take a session lease, by result (acquired, held by another worker)',
      labelNames: ['result'],
      registers,
    }),
    leaseTakeovers: new Counter({
      name: 'tern_lease_takeovers_total',
      help: 'Turns resumed from a log that a previous lease holder left unfinished',
      registers,
    }),
    leaseLost: new Counter({
      name: 'tern_lease_lost_total',
      help: 'Leases this worker failed to renew (another worker may hold the session now)',
      registers,
    }),
    fencingRejections: new Counter({
      name: 'tern_fencing_rejections_total',
      help: 'Commits and event publishes refused because the lease had changed hands',
      labelNames: ['op'],
      registers,
    }),
    commitDuration: new BucketHistogram({
      name: 'tern_commit_duration_seconds',
      help: 'Duration of a commit (segment write plus head compare-and-set), by result',
      labelNames: ['result'],
      buckets: bucketsOf('storeOp'),
      registers,
    }),
    commitBytes: new BucketHistogram({
      name: 'tern_commit_bytes',
      help: 'Size of the segment one commit writes',
      buckets: bucketsOf('commitBytes'),
      registers,
    }),
    publishDuration: new BucketHistogram({
      name: 'tern_publish_duration_seconds',
      help: "Duration of appending a batch of events that carries a step (an entry, a turn's end) to a session's stream",
      buckets: bucketsOf('storeOp'),
      registers,
    }),
    /** Events appended to session streams (per batch, token deltas included). */
    countPublished: (events: number) => {
      published += events;
    },
    queueWait: new BucketHistogram({
      name: 'tern_queue_wait_seconds',
      help: 'From enqueue to a worker running the job, by queue',
      labelNames: ['queue'],
      buckets: bucketsOf('queueWait'),
      registers,
    }),
    stalledJobs: new Counter({
      name: 'tern_queue_stalled_jobs_total',
      help: 'Jobs whose worker stopped renewing their lock and that were handed to another worker',
      labelNames: ['queue'],
      registers,
    }),
    sandboxKills: new Counter({
      name: 'tern_sandbox_kills_total',
      help: 'Sandboxed commands killed, by reason (timeout, cancelled, output_limit, memory, cpu)',
      labelNames: ['reason'],
      registers,
    }),
    providers: createProviderMetrics(registry),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
export type { ProviderMetrics };
