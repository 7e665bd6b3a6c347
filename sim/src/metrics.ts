/**
 * Prometheus counters of one simulator instance (an instance, not module state: tests run many
 * servers in one process). Metric names mirror the vLLM ones the benchmarks already know.
 */
export interface SimMetrics {
  requestStarted(): void;
  requestEnded(route: string, status: string): void;
  tokensCounted(prompt: number, completion: number): void;
  render(queue: { running: number; waiting: number }): string;
}

export function createSimMetrics(): SimMetrics {
  const requests = new Map<string, number>();
  let inFlight = 0;
  let promptTokens = 0;
  let generationTokens = 0;

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
    render(queue) {
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
      return `${lines.join('\n')}\n`;
    },
  };
}
