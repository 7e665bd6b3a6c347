import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVllmLoadAt, vllmMetricsUrlFor } from './vllm-load.ts';

const config = {
  BATCH_VLLM_METRICS_URL: undefined,
  OPENAI_COMPATIBLE_BASE_URL: undefined,
  SIM_PORT: 4010,
};

describe('vllmMetricsUrlFor', () => {
  it('uses the configured metrics URL for OpenAI-compatible models', () => {
    expect(
      vllmMetricsUrlFor(
        { ...config, BATCH_VLLM_METRICS_URL: 'http://gpu:9000/custom/metrics' },
        'openai-compatible:qwen3-coder',
      ),
    ).toBe('http://gpu:9000/custom/metrics');
  });

  it('derives it from the first base URL, or the built-in simulator’s', () => {
    expect(
      vllmMetricsUrlFor(
        { ...config, OPENAI_COMPATIBLE_BASE_URL: 'http://gpu-a:8000/v1/, http://gpu-b:8000/v1' },
        'openai-compatible:qwen3-coder',
      ),
    ).toBe('http://gpu-a:8000/metrics');
    expect(vllmMetricsUrlFor(config, 'openai-compatible:tern-sim')).toBe(
      'http://127.0.0.1:4010/metrics',
    );
  });

  it('knows no server for other providers', () => {
    expect(
      vllmMetricsUrlFor(
        { ...config, BATCH_VLLM_METRICS_URL: 'http://gpu/metrics' },
        'openai:gpt-4.1',
      ),
    ).toBe(undefined);
  });
});

describe('readVllmLoadAt', () => {
  let server: Server;
  let url: string;
  let body = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/metrics') res.writeHead(200).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('reads vLLM’s gauges from exactly the URL given', async () => {
    body = [
      'vllm:num_requests_running{model_name="m"} 7',
      'vllm:num_requests_waiting{model_name="m"} 2',
      'vllm:kv_cache_usage_perc{model_name="m"} 0.5',
    ].join('\n');
    expect(await readVllmLoadAt(`${url}/metrics`, 2000)).toMatchObject({
      ok: true,
      load: { running: 7, waiting: 2, kvCacheUsage: 0.5 },
    });
    await expect(readVllmLoadAt(`${url}/other`, 2000)).rejects.toThrow('404');
  });

  it('says what is missing from a server without them', async () => {
    body = 'process_cpu_seconds_total 1\n';
    const read = await readVllmLoadAt(`${url}/metrics`, 2000);
    expect(read.ok).toBe(false);
  });
});
