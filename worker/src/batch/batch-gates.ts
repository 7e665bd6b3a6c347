import { AdaptiveConcurrency } from '@tern/shared/batch/adaptive-concurrency';
import { readVllmLoad, type VllmLoadRead } from '@tern/shared/batch/vllm-metrics-reader';
import type { BatchConcurrency } from '@tern/shared/protocol/batch-api';
import { ConcurrencyGate } from './concurrency-gate.ts';

/** Targets at once for `auto` against a server that publishes no load: vLLM's gauges missing. */
export const FIXED_WITHOUT_METRICS = 16;
/** Fixed gates remembered (one per batch with a number for concurrency); the oldest go first. */
const MAX_FIXED_GATES = 1000;

export type BatchGatesOptions = {
  /** DISPATCHER_MAX_TARGETS: no gate ever lets more through. */
  maxTargets: number;
  /** BATCH_POLL_MS: how often an adaptive gate samples its server. */
  pollMs: number;
  /** Reads a server's load (default: GET <root>/metrics). */
  readLoad?: (url: string) => Promise<VllmLoadRead>;
  /** Told once per change of how an adaptive gate decides (metrics read, missing, unreachable). */
  onNote?: (url: string, note: 'adaptive' | 'no_metrics' | 'unreachable', detail?: string) => void;
};

/** Which gate a target waits at. */
export type GateKey = {
  batchId: string;
  concurrency: BatchConcurrency;
  /** The vLLM server of the batch's model, when it is an OpenAI-compatible one Tern knows. */
  metricsUrl?: string | undefined;
};

/**
 * The dispatcher's gates. `auto` batches against one server share one adaptive gate, since the
 * server's capacity is what they share: its limit follows `adaptConcurrency` fed with the
 * server's `/metrics` every poll and with the slots held here as our in-flight requests. A batch
 * with a number gets a gate of that size of its own; `auto` without a server to sample gets one
 * of FIXED_WITHOUT_METRICS. Several dispatcher processes each keep their own gates: the adaptive
 * ones see each other's targets as the server's other traffic and leave it room.
 */
export class BatchGates {
  readonly #options: BatchGatesOptions;
  readonly #adaptive = new Map<string, AdaptiveGate>();
  readonly #fixed = new Map<string, ConcurrencyGate>();

  constructor(options: BatchGatesOptions) {
    this.#options = options;
  }

  gateFor(key: GateKey): ConcurrencyGate {
    const max = this.#options.maxTargets;
    if (key.concurrency === 'auto' && key.metricsUrl) {
      let adaptive = this.#adaptive.get(key.metricsUrl);
      if (!adaptive) {
        adaptive = new AdaptiveGate(key.metricsUrl, this.#options);
        this.#adaptive.set(key.metricsUrl, adaptive);
      }
      return adaptive.gate;
    }
    let gate = this.#fixed.get(key.batchId);
    if (!gate) {
      const size = key.concurrency === 'auto' ? FIXED_WITHOUT_METRICS : key.concurrency;
      gate = new ConcurrencyGate(Math.min(size, max));
      this.#fixed.set(key.batchId, gate);
      for (const [id, old] of this.#fixed) {
        if (this.#fixed.size <= MAX_FIXED_GATES) break;
        if (old.held === 0 && old.waiting === 0) this.#fixed.delete(id);
      }
    }
    return gate;
  }

  /** The adaptive gate of a server, for its sampling (tests drive it one sample at a time). */
  adaptive(url: string): AdaptiveGate | undefined {
    return this.#adaptive.get(url);
  }

  /** What the metrics report: limits and slots held, adaptive and fixed gates apart. */
  totals(): { adaptiveLimit: number; fixedLimit: number; held: number } {
    let adaptiveLimit = 0;
    let fixedLimit = 0;
    let held = 0;
    for (const { gate } of this.#adaptive.values()) {
      adaptiveLimit += gate.limit;
      held += gate.held;
    }
    for (const gate of this.#fixed.values()) {
      if (gate.held === 0 && gate.waiting === 0) continue;
      fixedLimit += gate.limit;
      held += gate.held;
    }
    return { adaptiveLimit, fixedLimit, held };
  }

  close(): void {
    for (const adaptive of this.#adaptive.values()) adaptive.stop();
  }
}

/** A gate whose limit follows one vLLM server's load. */
export class AdaptiveGate {
  readonly gate: ConcurrencyGate;
  readonly #url: string;
  readonly #options: BatchGatesOptions;
  readonly #controller: AdaptiveConcurrency;
  readonly #timer: NodeJS.Timeout;
  #note: 'adaptive' | 'no_metrics' | 'unreachable' | undefined;
  #sampling = false;

  constructor(url: string, options: BatchGatesOptions) {
    this.#url = url;
    this.#options = options;
    this.#controller = new AdaptiveConcurrency({ max: options.maxTargets });
    this.gate = new ConcurrencyGate(this.#controller.limit);
    this.#timer = setInterval(() => void this.sample(), options.pollMs);
    this.#timer.unref();
  }

  /**
   * One control step. Skipped while no target uses the gate: an idle dispatcher sends the server
   * nothing, and a limit learnt from an idle server would only mislead.
   */
  async sample(): Promise<void> {
    if (this.#sampling || (this.gate.held === 0 && this.gate.waiting === 0)) return;
    this.#sampling = true;
    try {
      const read = await (this.#options.readLoad ?? ((url) => readVllmLoad(url)))(this.#url);
      if (!read.ok) {
        this.#noted('no_metrics', `missing ${read.missing.join(', ')}`);
        this.gate.setLimit(Math.min(FIXED_WITHOUT_METRICS, this.#options.maxTargets));
        return;
      }
      this.#noted('adaptive');
      // A target past the gate reaches the server only after its session is created and a
      // worker picks its turn up, often later than the next sample. Counted as in flight before
      // the server sees it, it would let the limit grow twice more on a server that has not
      // felt the last step yet, and the overshoot then waits a whole reply at the server.
      const seen = read.load.running + read.load.waiting;
      const decision = this.#controller.update({
        ...read.load,
        inFlight: Math.min(this.gate.held, seen),
      });
      this.gate.setLimit(decision.limit);
    } catch (error) {
      // The server is away for now: the limit stays where it was until it answers again.
      this.#noted('unreachable', String(error));
    } finally {
      this.#sampling = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #noted(note: 'adaptive' | 'no_metrics' | 'unreachable', detail?: string): void {
    if (this.#note === note) return;
    this.#note = note;
    this.#options.onNote?.(this.#url, note, detail);
  }
}
