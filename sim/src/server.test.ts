import { afterEach, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer, type SimServerOptions } from './server.ts';

const servers: SimServer[] = [];
async function start(options: SimServerOptions = {}): Promise<SimServer> {
  const sim = await createSimServer(options);
  servers.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const chat = (sim: SimServer, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const hello = { model: 'tern-sim', stream: true, messages: [{ role: 'user', content: 'hello' }] };

/** Reads a stream, noting when its first byte and its end arrived. */
async function timedStream(response: Promise<Response>) {
  const reader = (await response).body!.getReader();
  let first: number | undefined;
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
    first ??= performance.now();
  }
  return { first: first!, end: performance.now() };
}

describe('sim server routes', () => {
  it('lists its models in the OpenAI list shape', async () => {
    const sim = await start();
    const response = await fetch(`${sim.url}/v1/models`);
    expect(await response.json()).toEqual({
      object: 'list',
      data: [
        { id: 'tern-sim', object: 'model', created: 1735689600, owned_by: 'tern' },
        { id: 'tern-sim-fast', object: 'model', created: 1735689600, owned_by: 'tern' },
      ],
    });
  });

  it('reports health', async () => {
    const sim = await start();
    const response = await fetch(`${sim.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers an unknown route with 404 and an OpenAI error body', async () => {
    const sim = await start();
    const response = await fetch(`${sim.url}/v1/nope`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        message: 'Invalid URL (POST /v1/nope)',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
  });

  it('answers an invalid JSON body with 400 invalid_request_error', async () => {
    const sim = await start();
    const response = await chat(sim, '{not json');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', param: null, code: null },
    });
  });

  it('counts requests by route and status, and generated tokens, in Prometheus text', async () => {
    const sim = await start();
    await (await chat(sim, hello)).text();
    await (await chat(sim, '[]')).text();
    await (await fetch(`${sim.url}/nowhere`)).text();
    const response = await fetch(`${sim.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('tern_sim_requests_total{route="/v1/chat/completions",status="200"} 1');
    expect(text).toContain('tern_sim_requests_total{route="/v1/chat/completions",status="400"} 1');
    expect(text).toContain('tern_sim_requests_total{route="unmatched",status="404"} 1');
    expect(text).toContain('tern_sim_requests_in_flight 1'); // this very request
    expect(text).toMatch(/^tern_sim_generation_tokens_total [1-9]\d*$/m);
  });
});

describe('sim server latency', () => {
  it('queues requests beyond the concurrency cap and serves them one after the other', async () => {
    const sim = await start({ latency: { concurrency: 1, ttftMs: 50 } });
    const a = timedStream(chat(sim, hello));
    const b = timedStream(chat(sim, hello));
    // Both requests are in once one waits; on a loaded machine that can take a while.
    let metrics = '';
    while (!metrics.includes('tern_sim_num_requests_waiting 1')) {
      metrics = await (await fetch(`${sim.url}/metrics`)).text();
    }
    expect(metrics).toContain('tern_sim_num_requests_running 1');

    const [earlier, later] = (await Promise.all([a, b])).sort((x, y) => x.first - y.first);
    expect(later!.first).toBeGreaterThanOrEqual(earlier!.end);
  });

  it('takes per-request TTFT and ITL from headers', async () => {
    const sim = await start();
    const started = performance.now();
    const response = chat(sim, hello, { 'x-tern-sim-ttft-ms': '60', 'x-tern-sim-itl-ms': '5' });
    const { first, end } = await timedStream(response);
    expect(first - started).toBeGreaterThanOrEqual(55);
    // "You said: hello" plus the closing sentence is about 25 words, one ITL apart.
    expect(end - first).toBeGreaterThanOrEqual(80);
  });

  it('lets tern-sim-fast skip the configured latency', async () => {
    const sim = await start({ latency: { ttftMs: 500 } });
    const started = performance.now();
    await (await chat(sim, { ...hello, model: 'tern-sim-fast' })).text();
    expect(performance.now() - started).toBeLessThan(400);
  });

  it('rejects a malformed latency header', async () => {
    const sim = await start();
    const response = await chat(sim, hello, { 'x-tern-sim-itl-ms': 'soon' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { param: 'x-tern-sim-itl-ms' } });
  });

  it('frees the slot of a stream whose client went away', async () => {
    const sim = await start({ latency: { concurrency: 1, itlMs: 50 } });
    const abandoned = new AbortController();
    const reader = (
      await fetch(`${sim.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(hello),
        signal: abandoned.signal,
      })
    ).body!.getReader();
    await reader.read();
    abandoned.abort();

    // The abandoned stream had about a second of tokens left; the next one must not wait for it.
    const started = performance.now();
    const next = await chat(sim, { ...hello, model: 'tern-sim-fast' });
    expect(await next.text()).toContain('data: [DONE]');
    expect(performance.now() - started).toBeLessThan(500);
    const metrics = await (await fetch(`${sim.url}/metrics`)).text();
    expect(metrics).toContain(
      'tern_sim_requests_total{route="/v1/chat/completions",status="aborted"} 1',
    );
  });

  it('closes even with a hung request open', async () => {
    const sim = await start();
    const hung = chat(sim, hello, { 'x-tern-sim-fault': 'hang' }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sim.close();
    expect(await hung).toBeInstanceOf(Error);
  });
});
