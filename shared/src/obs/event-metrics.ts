import { type LlmErrorKind, llmErrorKinds } from '../llm/llm-types.ts';
import type { SessionEvent } from '../protocol/events.ts';
import type { LogEntry, Usage } from '../session/log-entry.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

const errorKinds: ReadonlySet<string> = new Set<LlmErrorKind>(llmErrorKinds);

/** States in which an `interrupted` entry cut a model call short. */
const modelStates: ReadonlySet<string> = new Set(['awaiting_model', 'streaming']);

const usageTypes = ['input', 'output', 'cached', 'reasoning'] as const;

/** `<provider>:<model>` split as the metrics label it. */
function splitRef(ref: string): { provider: string; model: string } {
  const at = ref.indexOf(':');
  return at <= 0
    ? { provider: 'unknown', model: ref }
    : { provider: ref.slice(0, at), model: ref.slice(at + 1) };
}

/**
 * Derives a turn's metrics from the events its worker publishes: the loop already reports
 * everything worth measuring (committed answers with usage, cost, TTFT and duration; tool results
 * with durations; retries; state changes), so nothing is measured inside the LLM layer or the
 * agent loop. One instance per turn; `now` is a monotonic clock in ms.
 */
export class TurnEventMetrics {
  readonly #metrics: WorkerMetrics;
  readonly #provider: string;
  readonly #model: string;
  readonly #now: () => number;
  #startedAt: number | undefined;
  #state = 'awaiting_model';
  #lastSeq = 0;
  #ended = false;

  /** `modelRef` is the session's model, for calls that failed before an answer named one. */
  constructor(metrics: WorkerMetrics, modelRef: string, now: () => number) {
    this.#metrics = metrics;
    const { provider, model } = splitRef(modelRef);
    this.#provider = provider;
    this.#model = metrics.modelLabel(model);
    this.#now = now;
  }

  /** The last sequence number committed while this turn ran (the log's length). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  observe(event: SessionEvent): void {
    const m = this.#metrics;
    switch (event.type) {
      case 'turn_started':
        this.#startedAt = this.#now();
        break;
      case 'turn_state':
        this.#state = event.to;
        break;
      case 'model_retry':
        m.modelRetries.inc({ provider: this.#provider, kind: kindLabel(event.code) });
        break;
      case 'hook_warning':
        m.hookProblems.inc({ point: event.point, problem: event.problem });
        break;
      case 'entry':
        this.#entry(event.entry);
        break;
      case 'turn_paused':
        this.#end('awaiting_approval', event.steps);
        break;
      case 'turn_finished':
        this.#end(event.reason, event.steps);
        break;
      default:
        break;
    }
  }

  #entry(entry: LogEntry): void {
    const m = this.#metrics;
    this.#lastSeq = Math.max(this.#lastSeq, entry.seq);
    switch (entry.kind) {
      case 'assistant_message': {
        const { provider, model: raw } = splitRef(entry.model);
        const labels = { provider, model: m.modelLabel(raw) };
        const outcome =
          entry.finishReason === 'stop' || entry.finishReason === 'tool_calls'
            ? 'ok'
            : entry.finishReason;
        m.modelCalls.inc({ ...labels, outcome });
        if (entry.ttftMs !== undefined) m.ttft.observe(labels, entry.ttftMs / 1000);
        if (entry.durationMs !== undefined)
          m.modelDuration.observe(labels, entry.durationMs / 1000);
        this.#usage(labels, entry.usage);
        break;
      }
      case 'compaction':
        // The summarising call counts toward tokens and cost; it is not a step of the turn.
        if (entry.usage) this.#usage({ provider: this.#provider, model: this.#model }, entry.usage);
        break;
      case 'error':
        // Codes of the LLM layer's taxonomy are failed model calls; the loop's own codes
        // (max_steps, hook_denied, …) are not.
        if (errorKinds.has(entry.code)) {
          const labels = { provider: this.#provider, model: this.#model };
          m.modelCalls.inc({ ...labels, outcome: entry.code === 'aborted' ? 'aborted' : 'error' });
          m.modelErrors.inc({ provider: this.#provider, kind: entry.code });
        }
        break;
      case 'interrupted':
        if (modelStates.has(this.#state)) {
          m.modelCalls.inc({ provider: this.#provider, model: this.#model, outcome: 'aborted' });
        }
        break;
      case 'tool_finished': {
        const tool = m.toolLabel(entry.name);
        const outcome = entry.notRun ?? (entry.ok ? 'ok' : 'error');
        m.toolCalls.inc({ tool, outcome });
        if (!entry.notRun) m.toolDuration.observe({ tool }, entry.durationMs / 1000);
        break;
      }
      default:
        break;
    }
  }

  #usage(labels: { provider: string; model: string }, usage: Usage): void {
    const m = this.#metrics;
    for (const type of usageTypes) {
      if (usage[type] > 0) m.tokens.inc({ ...labels, type }, usage[type]);
    }
    if (usage.costUsd > 0) m.cost.inc(labels, usage.costUsd);
  }

  #end(outcome: string, steps: number): void {
    if (this.#ended) return;
    this.#ended = true;
    const m = this.#metrics;
    m.turns.inc({ outcome });
    m.turnSteps.observe({ outcome }, steps);
    if (this.#startedAt !== undefined) {
      m.turnDuration.observe({ outcome }, (this.#now() - this.#startedAt) / 1000);
    }
    if (this.#lastSeq > 0) m.sessionLogEntries.observe(this.#lastSeq);
  }
}

/** Retry codes come from the LLM layer; anything else is folded into `other`. */
function kindLabel(code: string): string {
  return errorKinds.has(code) ? code : 'other';
}
