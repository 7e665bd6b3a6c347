import { createSimServer, type SimServer, type SimServerOptions } from '@tern/sim';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/free-port.ts';
import { formatReport } from '../commands/vllm-check.ts';
import { runVllmChecks, type VllmCheckOptions } from './vllm-checks.ts';

// `tern vllm check` against the simulator impersonating vLLM, healthy and misconfigured the ways
// a real server is: each failure must name what to change on the server.

const servers: SimServer[] = [];
async function sim(options: SimServerOptions = {}) {
  const server = await createSimServer({ dialect: 'vllm', ...options });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function check(options: SimServerOptions, extra: Partial<VllmCheckOptions> = {}) {
  const server = await sim(options);
  const report = await runVllmChecks({ url: `${server.url}/v1`, timeoutMs: 10_000, ...extra });
  return { report, by: (name: string) => report.results.find((r) => r.name === name)! };
}

describe('a healthy vLLM server', () => {
  it('passes every check, with the served model found on its own', async () => {
    const { report } = await check({ servedModelName: 'qwen3-coder' });
    expect(report.model).toBe('qwen3-coder');
    expect(report.results.map((r) => [r.name, r.status])).toEqual([
      ['models', 'ok'],
      ['completion', 'ok'],
      ['tool_calling', 'ok'],
      ['metrics', 'ok'],
    ]);
    const [models, completion, tools, metrics] = report.results;
    expect(models?.summary).toBe('serves qwen3-coder (max_model_len 8192)');
    expect(completion?.summary).toContain('with usage');
    expect(tools?.summary).toContain('read_file({"path":"notes/check.txt"})');
    expect(tools?.summary).toContain('quoting the result');
    expect(metrics?.summary).toBe('running 0, waiting 0, KV cache 0.0% (vllm:kv_cache_usage_perc)');
    expect(formatReport(report)).toContain('4 of 4 checks passed');
  });

  it('passes when the parser reports finish "stop" for a call, which Tern tolerates', async () => {
    const { report } = await check({ dialect: 'vllm-stop-finish' });
    expect(report.results.every((r) => r.status === 'ok')).toBe(true);
  });
});

describe('misconfigured servers', () => {
  it('tool calls returned as text: the parser is missing or wrong', async () => {
    const { by } = await check({ dialect: 'vllm-hermes' });
    expect(by('completion').status).toBe('ok');
    expect(by('tool_calling')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('came back as text in content'),
      diagnosis: expect.stringContaining(
        '--enable-auto-tool-choice / --tool-call-parser missing or wrong for this model',
      ),
    });
    expect(by('tool_calling').diagnosis).toContain('vllm/presets');
  });

  it('started without --enable-auto-tool-choice: the 400 is explained', async () => {
    const { by } = await check({ dialect: 'vllm-no-auto-tools' });
    expect(by('completion').status).toBe('ok');
    expect(by('tool_calling')).toMatchObject({
      status: 'fail',
      diagnosis: expect.stringContaining(
        'start vLLM with --enable-auto-tool-choice --tool-call-parser',
      ),
    });
  });

  it('a parser that cuts the arguments: invalid JSON is reported, never passed on', async () => {
    const { by } = await check({ fault: 'truncated_tool_json' });
    expect(by('tool_calling')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('arguments are not valid'),
      diagnosis: expect.stringContaining('--tool-call-parser may not match this model'),
    });
  });

  it('a model name the server does not serve: served-model-name mismatch, on the list and on the 404', async () => {
    const { report, by } = await check(
      { servedModelName: 'qwen3-coder' },
      { model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct' },
    );
    expect(by('models')).toMatchObject({
      status: 'fail',
      summary: 'Qwen/Qwen3-Coder-30B-A3B-Instruct is not listed; serves qwen3-coder',
      diagnosis: expect.stringContaining('--served-model-name Qwen/Qwen3-Coder-30B-A3B-Instruct'),
    });
    expect(by('completion')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('not_found'),
      diagnosis: expect.stringContaining('is not served (404; the server serves qwen3-coder)'),
    });
    expect(by('tool_calling').status).toBe('skipped');
    expect(by('metrics').status).toBe('ok');
    expect(formatReport(report)).toContain('1 of 4 checks passed');
  });

  it('a wrong API key: 401, with the flag to fix', async () => {
    const { by } = await check({}, { apiKey: 'sk-invalid', model: 'tern-sim' });
    expect(by('models')).toMatchObject({
      status: 'fail',
      diagnosis: expect.stringContaining('--api-key must equal the server’s --api-key'),
    });
    expect(by('completion')).toMatchObject({
      status: 'fail',
      diagnosis: expect.stringContaining('API key was refused'),
    });
  });

  it('a server without vLLM’s gauges: batch jobs cannot adapt', async () => {
    const { by } = await check({ dialect: 'openai' });
    expect(by('metrics')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('lacks vllm:num_requests_running'),
      diagnosis: expect.stringContaining('--disable-log-stats'),
    });
  });

  it('nothing listening: unreachable, and the model checks are skipped', async () => {
    const port = await freePort();
    const report = await runVllmChecks({ url: `http://127.0.0.1:${port}` });
    expect(report.results.map((r) => r.status)).toEqual(['fail', 'skipped', 'skipped', 'fail']);
    expect(report.results[0]?.diagnosis).toContain(`cannot reach http://127.0.0.1:${port}`);
    expect(report.results[0]?.summary).toContain('ECONNREFUSED');
  });
});
