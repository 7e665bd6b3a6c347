import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./sim-main.ts', import.meta.url));

/** Starts the process with `env`, hands its URL to `use`, then stops it with SIGTERM. */
async function withSim(env: Record<string, string>, use: (url: string) => Promise<void>) {
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, SIM_PORT: '0', TERN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const match = /^tern sim listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(line.toString());
    expect(match).not.toBeNull();
    await use(match![1]!);
  } finally {
    child.kill('SIGTERM');
  }
  const [code, signal] = await exited;
  expect({ code, signal }).toEqual({ code: 0, signal: null });
}

describe('sim-main', () => {
  it('announces its URL, serves, and exits 0 on SIGTERM', async () => {
    await withSim({ SIM_TTFT_MS: '1' }, async (url) => {
      const response = await fetch(`${url}/health`);
      expect(await response.json()).toEqual({ status: 'ok' });
    });
  });

  it('takes its dialect from SIM_DIALECT and its scenarios from SIM_SCENARIOS_DIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tern-sim-main-'));
    try {
      await writeFile(
        join(dir, 'hello.json'),
        JSON.stringify({ steps: [{ text: 'from a file' }] }),
      );
      await withSim({ SIM_DIALECT: 'vllm', SIM_SCENARIOS_DIR: dir }, async (url) => {
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'x-tern-sim-scenario': 'hello' },
          body: JSON.stringify({ model: 'tern-sim', messages: [{ role: 'user', content: 'x' }] }),
        });
        const completion = await response.json();
        expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
        expect(completion.choices[0].message.content).toBe('from a file');
        expect(await (await fetch(`${url}/metrics`)).text()).toContain('vllm:num_requests_running');
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with an unknown dialect', async () => {
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, SIM_PORT: '0', SIM_DIALECT: 'tgi' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('unknown SIM_DIALECT "tgi"');
  });
});
