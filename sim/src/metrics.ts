import { createHistogram } from './histogram.ts';
import { renderVllmMetrics, VLLM_ITL_BUCKETS, VLLM_TTFT_BUCKETS } from './vllm-metrics.ts';

/**
 * Prometheus counters of one simulator instance (an instance, not module state: tests run many
 * servers in one process). Metric names mirror the vLLM ones the benchmarks already know, and a
 * server impersonating vLLM also exposes vLLM's own names.
 */
export interface SimMetrics {
  requestStarted(): void;
  requestEnded(route: string, status: string): void;
  tokensCounted(prompt: number, completion: number): void;
  /** A generation that ran to its end: time to first token (queueing included) and its gaps. */
  generationTimed(ttftMs: number, itlsMs: readonly number[]): void;
  render(queue: QueueState, vllm?: VllmExposure): string;
}

export interface QueueState {
  running: number;
  waiting: number;
  kvUsage: number;
}

export interface VllmExposure {
  model: string;
}

export function createSimMetrics(): SimMetrics {
  const requests = new Map<string, number>();
  let inFlight = 0;
  let promptTokens = 0;
  let generationTokens = 0;
  const ttft = createHistogram(VLLM_TTFT_BUCKETS);
  const itl = createHistogram(VLLM_ITL_BUCKETS);

  return {
    requestStarted() {
      inFlight++;
    },
    requestEnded(route, status) {
      inFlight--;
      const key = `route="${route}",status="${status}"`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
    },
    tokensCounted(prompt, completion) {
      promptTokens += prompt;
      generationTokens += completion;
    },
    generationTimed(ttftMs, itlsMs) {
      ttft.observe(ttftMs / 1000);
      for (const gap of itlsMs) itl.observe(gap / 1000);
    },
    render(queue, vllm) {
      const lines = [
        '# HELP tern_sim_requests_total Requests answered, by route and HTTP status ("aborted" when the connection ended first).',
        '# TYPE tern_sim_requests_total counter',
        ...[...requests].map(([labels, n]) => `tern_sim_requests_total{${labels}} ${n}`),
        '# HELP tern_sim_requests_in_flight Requests received and not yet answered.',
        '# TYPE tern_sim_requests_in_flight gauge',
        `tern_sim_requests_in_flight ${inFlight}`,
        '# HELP tern_sim_num_requests_running Generations holding a concurrency slot.',
        '# TYPE tern_sim_num_requests_running gauge',
        `tern_sim_num_requests_running ${queue.running}`,
        '# HELP tern_sim_num_requests_waiting Generations queued for a concurrency slot.',
        '# TYPE tern_sim_num_requests_waiting gauge',
        `tern_sim_num_requests_waiting ${queue.waiting}`,
        '# HELP tern_sim_prompt_tokens_total Prompt tokens of completed generations.',
        '# TYPE tern_sim_prompt_tokens_total counter',
        `tern_sim_prompt_tokens_total ${promptTokens}`,
        '# HELP tern_sim_generation_tokens_total Completion tokens generated.',
        '# TYPE tern_sim_generation_tokens_total counter',
        `tern_sim_generation_tokens_total ${generationTokens}`,
      ];
      if (vllm) {
        lines.push(
          ...renderVllmMetrics({
            model: vllm.model,
            running: queue.running,
            waiting: queue.waiting,
            kvUsage: queue.kvUsage,
            promptTokens,
            generationTokens,
            ttft,
            itl,
          }),
        );
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
