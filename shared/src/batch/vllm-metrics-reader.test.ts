import { createSimServer } from '@tern/sim';
import { describe, expect, it } from 'vitest';
import {
  parsePrometheusText,
  readVllmLoad,
  vllmLoadFrom,
  vllmRootUrl,
} from './vllm-metrics-reader.ts';

// An excerpt of a vLLM 0.10 server with two data-parallel engines, as it really prints it.
const VLLM_TEXT = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-Coder-30B-A3B-Instruct"} 12.0
vllm:num_requests_running{engine="1",model_name="Qwen/Qwen3-Coder-30B-A3B-Instruct"} 9.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-Coder-30B-A3B-Instruct"} 3.0
vllm:num_requests_waiting{engine="1",model_name="Qwen/Qwen3-Coder-30B-A3B-Instruct"} 0.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-Coder-30B-A3B-Instruct"} 0.87
vllm:kv_cache_usage_perc{engine="1",model_name="Qwen/Qwen3-Coder-30B-A3B-Instruct"} 0.41
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen3-Coder-30B-A3B-Instruct"} 42.0
`;

describe('parsePrometheusText', () => {
  it('reads names, labels and values, and skips comments', () => {
    const samples = parsePrometheusText(VLLM_TEXT);
    expect(samples).toHaveLength(7);
    expect(samples[0]).toEqual({
      name: 'vllm:num_requests_running',
      labels: { engine: '0', model_name: 'Qwen/Qwen3-Coder-30B-A3B-Instruct' },
      value: 12,
    });
    expect(samples.at(-1)?.labels.le).toBe('+Inf');
  });

  it('unescapes label values and reads special values and timestamps', () => {
    const samples = parsePrometheusText(
      [
        'a{path="C:\\\\x",msg="say \\"hi\\"\\nbye",brace="}"} 1 1700000000000',
        'b +Inf',
        'c NaN',
        'd -Inf',
        'e{bad="unterminated} 1',
        'f not-a-number',
        'g 2.5e-3',
      ].join('\n'),
    );
    expect(samples.map((s) => s.name)).toEqual(['a', 'b', 'c', 'd', 'g']);
    expect(samples[0]).toEqual({
      name: 'a',
      labels: { path: 'C:\\x', msg: 'say "hi"\nbye', brace: '}' },
      value: 1,
    });
    expect(samples[1]?.value).toBe(Number.POSITIVE_INFINITY);
    expect(samples[2]?.value).toBeNaN();
    expect(samples[4]?.value).toBe(0.0025);
  });
});

describe('vllmLoadFrom', () => {
  it('sums running and waiting over engines and takes the fullest engine’s KV cache', () => {
    expect(vllmLoadFrom(parsePrometheusText(VLLM_TEXT))).toEqual({
      ok: true,
      load: { running: 21, waiting: 3, kvCacheUsage: 0.87, kvMetric: 'vllm:kv_cache_usage_perc' },
    });
  });

  it('reads the older gpu_cache_usage_perc name, and filters by model', () => {
    const text = [
      'vllm:num_requests_running{model_name="a"} 2',
      'vllm:num_requests_running{model_name="b"} 5',
      'vllm:num_requests_waiting{model_name="a"} 1',
      'vllm:num_requests_waiting{model_name="b"} 0',
      'vllm:gpu_cache_usage_perc{model_name="a"} 0.5',
      'vllm:gpu_cache_usage_perc{model_name="b"} 0.25',
    ].join('\n');
    expect(vllmLoadFrom(parsePrometheusText(text), 'b')).toEqual({
      ok: true,
      load: { running: 5, waiting: 0, kvCacheUsage: 0.25, kvMetric: 'vllm:gpu_cache_usage_perc' },
    });
  });

  it('names what is missing', () => {
    expect(vllmLoadFrom(parsePrometheusText('vllm:num_requests_running 1\n'))).toEqual({
      ok: false,
      missing: [
        'vllm:num_requests_waiting',
        'vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc',
      ],
    });
  });
});

describe('readVllmLoad', () => {
  it('reads the simulator’s vLLM metrics from the base URL or the OpenAI one', async () => {
    const sim = await createSimServer({ dialect: 'vllm', latency: { concurrency: 4 } });
    try {
      for (const url of [sim.url, `${sim.url}/`, `${sim.url}/v1`]) {
        expect(await readVllmLoad(url)).toEqual({
          ok: true,
          load: { running: 0, waiting: 0, kvCacheUsage: 0, kvMetric: 'vllm:kv_cache_usage_perc' },
        });
      }
    } finally {
      await sim.close();
    }
  });

  it('reports the gauges missing on a server that is not vLLM', async () => {
    const sim = await createSimServer();
    try {
      const read = await readVllmLoad(sim.url);
      expect(read.ok).toBe(false);
    } finally {
      await sim.close();
    }
  });

  it('strips only a trailing /v1 from a URL', () => {
    expect(vllmRootUrl('http://gpu:8000/v1/')).toBe('http://gpu:8000');
    expect(vllmRootUrl('http://gpu:8000/proxy/v1')).toBe('http://gpu:8000/proxy');
    expect(vllmRootUrl('http://gpu:8000/v10')).toBe('http://gpu:8000/v10');
  });
});
