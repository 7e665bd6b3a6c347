import { afterEach, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer, type SimServerOptions } from './server.ts';

// Server-wide behaviour a vLLM benchmark observes: metrics under vLLM's names, per-wire latency,
// and throughput that rises with concurrency until the batch saturates and requests queue.

const servers: SimServer[] = [];
async function start(options: SimServerOptions = {}): Promise<SimServer> {
  const sim = await createSimServer(options);
  servers.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const chat = (sim: SimServer, content = 'hello', headers: Record<string, string> = {}) =>
  fetch(`${sim.url}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      model: 'tern-sim',
      stream: true,
      messages: [{ role: 'user', content }],
    }),
  }).then((r) => r.text());

const metric = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('vLLM metrics', () => {
  it('exposes vLLM’s names, fed by the slot queue and the latency model', async () => {
    const sim = await start({ dialect: 'vllm', latency: { ttftMs: 30, itlMs: 2, concurrency: 4 } });
    await chat(sim);
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    const m = (name: string) => metric(text, `${name}{model_name="tern-sim"`);
    expect(m('vllm:num_requests_running')).toBe(0);
    expect(m('vllm:num_requests_waiting')).toBe(0);
    expect(m('vllm:kv_cache_usage_perc')).toBe(0);
    expect(m('vllm:prompt_tokens_total')).toBe(2); // "hello"
    expect(m('vllm:generation_tokens_total')).toBe(
      metric(text, 'tern_sim_generation_tokens_total'),
    );
    expect(m('vllm:time_to_first_token_seconds_count')).toBe(1);
    expect(m('vllm:time_to_first_token_seconds_sum')).toBeGreaterThanOrEqual(0.03);
    expect(text).toContain(
      'vllm:time_to_first_token_seconds_bucket{model_name="tern-sim",le="0.02"} 0',
    );
    expect(text).toContain(
      'vllm:time_to_first_token_seconds_bucket{model_name="tern-sim",le="0.04"} 1',
    );
    // One gap between each pair of the reply's ~25 word steps, each 2 ms.
    const gaps = m('vllm:inter_token_latency_seconds_count')!;
    expect(gaps).toBeGreaterThan(15);
    expect(m('vllm:inter_token_latency_seconds_sum')).toBeCloseTo(gaps * 0.002, 6);
    expect(text).toContain('# TYPE vllm:inter_token_latency_seconds histogram');
  });

  it('shows the KV-cache tokens held by running generations as KV-cache usage', async () => {
    // A full batch is not a full cache: usage counts the prompt and generated tokens held.
    const sim = await start({
      dialect: 'vllm',
      latency: { ttftMs: 300, concurrency: 2, kvCacheTokens: 100 },
    });
    const running = chat(sim);
    let text = '';
    while (metric(text, 'vllm:num_requests_running{') !== 1) {
      text = await (await fetch(`${sim.url}/metrics`)).text();
    }
    // "hello" is 2 prompt tokens, and the first token is planned at admission; the rest of the
    // reply is reserved but not yet in use.
    expect(metric(text, 'vllm:kv_cache_usage_perc{')).toBeGreaterThan(0.02);
    expect(metric(text, 'vllm:kv_cache_usage_perc{')).toBeLessThan(0.1);
    await running;
    text = await (await fetch(`${sim.url}/metrics`)).text();
    expect(metric(text, 'vllm:kv_cache_usage_perc{')).toBe(0);
  });

  it('queues requests whose sequence does not fit in the KV cache although slots are free', async () => {
    const sim = await start({
      dialect: 'vllm',
      latency: { ttftMs: 300, concurrency: 8, kvCacheTokens: 20 },
    });
    const long = 'please give a long answer about the tern and its long migration';
    const replies = [chat(sim, long), chat(sim, long), chat(sim, long)];
    let text = '';
    while (metric(text, 'vllm:num_requests_waiting{') !== 2) {
      text = await (await fetch(`${sim.url}/metrics`)).text();
    }
    expect(metric(text, 'vllm:num_requests_running{')).toBe(1);
    await Promise.all(replies);
  });

  it('keeps vLLM’s names out of an OpenAI-dialect server', async () => {
    const sim = await start();
    await chat(sim);
    expect(await (await fetch(`${sim.url}/metrics`)).text()).not.toContain('vllm:');
  });
});

describe('latency by route', () => {
  it('gives the OpenAI route its own TTFT over the server’s', async () => {
    const sim = await start({
      latency: { ttftMs: 0 },
      latencyByRoute: { openai: { ttftMs: 120 } },
    });
    const started = performance.now();
    await chat(sim);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });
});

describe('batching model', () => {
  /** Runs `n` identical long streams at once; returns tokens per second over all of them. */
  async function throughput(
    sim: SimServer,
    n: number,
  ): Promise<{ perStream: number; total: number }> {
    const started = performance.now();
    const durations = await Promise.all(
      Array.from({ length: n }, async () => {
        const t0 = performance.now();
        await chat(sim, 'please give a long answer');
        return performance.now() - t0;
      }),
    );
    const elapsed = performance.now() - started;
    return { perStream: Math.max(...durations), total: (300 * n) / elapsed };
  }

  it('has throughput rise with concurrency while each stream slows, then queue past the cap', async () => {
    // One stream: 300 steps × 1 ms. Four: each step 1 × (1 + 3/2) ms, but four at once.
    const sim = await start({ latency: { itlMs: 1, concurrency: 4, batchKnee: 2 } });
    const one = await throughput(sim, 1);
    const four = await throughput(sim, 4);
    expect(four.perStream).toBeGreaterThan(1.8 * one.perStream);
    expect(four.total).toBeGreaterThan(1.2 * one.total);
    // Eight on four slots: the second four wait for the first, so throughput stops rising.
    const eight = await throughput(sim, 8);
    expect(eight.total).toBeLessThan(1.3 * four.total);
    expect(eight.perStream).toBeGreaterThan(1.7 * four.perStream);
  });
});
