import {
  parsePrometheusText,
  type VllmLoadRead,
  vllmLoadFrom,
} from '@tern/shared/batch/vllm-metrics-reader';
import type { Config } from '@tern/shared/config/config';

type EndpointConfig = Pick<
  Config,
  'BATCH_VLLM_METRICS_URL' | 'OPENAI_COMPATIBLE_BASE_URL' | 'SIM_PORT'
>;

/**
 * The `/metrics` URL of the server a batch's model runs on, when Tern knows one: models of the
 * `openai-compatible` provider (vLLM, or the simulator standing in for it) are served by
 * BATCH_VLLM_METRICS_URL's server, else by the first OPENAI_COMPATIBLE_BASE_URL with `/v1`
 * replaced by `/metrics` (the built-in simulator's when none is set, as the model registry
 * does). Other providers publish no load: `auto` batches on them use a fixed size.
 */
export function vllmMetricsUrlFor(config: EndpointConfig, model: string): string | undefined {
  if (!model.startsWith('openai-compatible:')) return undefined;
  if (config.BATCH_VLLM_METRICS_URL) return config.BATCH_VLLM_METRICS_URL;
  const base =
    config.OPENAI_COMPATIBLE_BASE_URL?.split(',')[0]?.trim() ||
    `http://127.0.0.1:${config.SIM_PORT}/v1`;
  return `${base.replace(/\/+$/, '').replace(/\/v1$/, '')}/metrics`;
}

/** Reads a server's load from exactly this URL, within `timeoutMs`. */
export async function readVllmLoadAt(url: string, timeoutMs: number): Promise<VllmLoadRead> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  return vllmLoadFrom(parsePrometheusText(await response.text()));
}
