import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTern } from '../helpers/run-tern.ts';
import { type SimProcess, startSimProcess } from '../helpers/sim-process.ts';

// `tern vllm check` as an operator runs it, against the vLLM simulator in its own process.

const tern = (args: string[]) => runTern(args);

let healthy: SimProcess;
let noParser: SimProcess;
beforeAll(async () => {
  [healthy, noParser] = await Promise.all([
    startSimProcess({ SIM_DIALECT: 'vllm', SIM_SERVED_MODEL_NAME: 'qwen3-coder' }),
    startSimProcess({ SIM_DIALECT: 'vllm-hermes' }),
  ]);
});
afterAll(async () => {
  await Promise.all([healthy?.stop(), noParser?.stop()]);
});

describe('tern vllm check', () => {
  it('exits 0 and reports each check ok against a healthy server', async () => {
    const result = await tern(['vllm', 'check', healthy.url, '--model', 'qwen3-coder']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok {4}tool calling +read_file\(\{"path":"notes\/check.txt"\}\)/);
    expect(result.stdout).toContain('4 of 4 checks passed');
  });

  it('exits 1 with the diagnosis when tool calls come back as text', async () => {
    const result = await tern(['vllm', 'check', `${noParser.url}/v1`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL  tool calling');
    expect(result.stdout).toContain(
      '→ --enable-auto-tool-choice / --tool-call-parser missing or wrong for this model',
    );
  });

  it('prints the report as JSON with --json', async () => {
    const result = await tern(['vllm', 'check', healthy.url, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.model).toBe('qwen3-coder');
    expect(report.results.map((r: { status: string }) => r.status)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
  });

  it('exits 2 with the usage on a bad URL', async () => {
    const result = await tern(['vllm', 'check', 'gpu:8000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tern vllm check <url>');
  });
});
