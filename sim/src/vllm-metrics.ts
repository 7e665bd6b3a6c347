import type { Histogram } from './histogram.ts';

/**
 * The subset of vLLM's Prometheus metrics that dashboards and benchmarks read, under vLLM's own
 * names and buckets, so tooling written for a vLLM server works unchanged against the sim.
 */
export const VLLM_TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0, 160.0, 640.0, 2560.0,
];
export const VLLM_ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0,
];

export interface VllmMetricsState {
  model: string;
  running: number;
  waiting: number;
  /** Share of the simulated KV cache in use, 0..1 (0 when the cache is unlimited). */
  kvUsage: number;
  promptTokens: number;
  generationTokens: number;
  ttft: Histogram;
  itl: Histogram;
}

export function renderVllmMetrics(s: VllmMetricsState): string[] {
  const labels = `model_name="${s.model}"`;
  return [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{${labels}} ${s.running}`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{${labels}} ${s.waiting}`,
    '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc{${labels}} ${s.kvUsage}`,
    '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
    '# TYPE vllm:prompt_tokens_total counter',
    `vllm:prompt_tokens_total{${labels}} ${s.promptTokens}`,
    '# HELP vllm:generation_tokens_total Number of generation tokens processed.',
    '# TYPE vllm:generation_tokens_total counter',
    `vllm:generation_tokens_total{${labels}} ${s.generationTokens}`,
    '# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.',
    '# TYPE vllm:time_to_first_token_seconds histogram',
    ...s.ttft.lines('vllm:time_to_first_token_seconds', labels),
    '# HELP vllm:inter_token_latency_seconds Histogram of inter-token latency in seconds.',
    '# TYPE vllm:inter_token_latency_seconds histogram',
    ...s.itl.lines('vllm:inter_token_latency_seconds', labels),
  ];
}
