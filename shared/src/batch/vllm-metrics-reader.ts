/**
 * Reads the load of a vLLM server from its Prometheus endpoint (`GET /metrics`, served next to
 * the OpenAI routes, never behind `--api-key`). The parser is the small subset of the Prometheus
 * text format (version 0.0.4) that vLLM emits: `name{label="value",…} value [timestamp]` lines
 * and `#` comments; it exists because prom-client writes this format but does not read it.
 */

export type PromSample = { name: string; labels: Record<string, string>; value: number };

const SAMPLE = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;

/** Every sample line of an exposition; lines it cannot read are skipped, not fatal. */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels = match[2] === undefined ? {} : parseLabels(match[2].slice(1, -1));
    const value = parseValue(match[3]!);
    if (labels === undefined || value === undefined) continue;
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** `a="x",b="y \"quoted\""` → `{a: 'x', b: 'y "quoted"'}`; undefined when malformed. */
function parseLabels(body: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    while (body[i] === ' ' || body[i] === ',') i++;
    if (i >= body.length) break;
    const eq = body.indexOf('=', i);
    if (eq === -1 || body[eq + 1] !== '"') return undefined;
    const name = body.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < body.length && body[j] !== '"'; j++) {
      if (body[j] === '\\' && j + 1 < body.length) {
        j++;
        value += body[j] === 'n' ? '\n' : body[j];
      } else {
        value += body[j];
      }
    }
    if (j >= body.length) return undefined;
    labels[name] = value;
    i = j + 1;
  }
  return labels;
}

export const VLLM_RUNNING = 'vllm:num_requests_running';
export const VLLM_WAITING = 'vllm:num_requests_waiting';
/** vLLM's V1 engine name; older servers call it `vllm:gpu_cache_usage_perc`. */
export const VLLM_KV_USAGE = ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'] as const;

export type VllmLoad = {
  /** Requests in the running batch, summed over engines (data-parallel ranks) and models. */
  running: number;
  /** Requests queued for the batch, summed likewise. */
  waiting: number;
  /** KV-cache usage 0..1 of the fullest engine: the one that preempts or stalls first. */
  kvCacheUsage: number;
  /** Which KV-cache metric the server exposes. */
  kvMetric: string;
};

export type VllmLoadRead = { ok: true; load: VllmLoad } | { ok: false; missing: string[] };

/** The load gauges from parsed samples; `model` keeps only that `model_name` when given. */
export function vllmLoadFrom(samples: readonly PromSample[], model?: string): VllmLoadRead {
  const of = (name: string) =>
    samples.filter(
      (s) => s.name === name && (model === undefined || s.labels.model_name === model),
    );
  const running = of(VLLM_RUNNING);
  const waiting = of(VLLM_WAITING);
  const kvMetric = VLLM_KV_USAGE.find((name) => of(name).length > 0);
  const missing = [
    ...(running.length === 0 ? [VLLM_RUNNING] : []),
    ...(waiting.length === 0 ? [VLLM_WAITING] : []),
    ...(kvMetric === undefined ? [VLLM_KV_USAGE.join(' or ')] : []),
  ];
  if (kvMetric === undefined || missing.length > 0) return { ok: false, missing };
  const sum = (list: PromSample[]) => list.reduce((n, s) => n + s.value, 0);
  return {
    ok: true,
    load: {
      running: sum(running),
      waiting: sum(waiting),
      kvCacheUsage: Math.max(...of(kvMetric).map((s) => s.value)),
      kvMetric,
    },
  };
}

/**
 * The server's root URL from what an operator gives: `http://gpu:8000`, `http://gpu:8000/` and
 * the OpenAI base URL `http://gpu:8000/v1` all name the same server.
 */
export function vllmRootUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}

export type ReadVllmLoadOptions = {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  model?: string;
};

/**
 * Fetches and reads `/metrics`. A server that answers without the gauges (an old vLLM, or one
 * started with `--disable-log-stats`) reads as `ok: false` with what is missing; a failed request
 * rejects, as fetch does.
 */
export async function readVllmLoad(
  url: string,
  options: ReadVllmLoadOptions = {},
): Promise<VllmLoadRead> {
  const response = await (options.fetch ?? fetch)(`${vllmRootUrl(url)}/metrics`, {
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET /metrics answered ${response.status}`);
  }
  return vllmLoadFrom(parsePrometheusText(await response.text()), options.model);
}
