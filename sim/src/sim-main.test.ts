import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./sim-main.ts', import.meta.url));

describe('sim-main', () => {
  it('announces its URL, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, SIM_PORT: '0', TERN_HOST: '127.0.0.1', SIM_TTFT_MS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const match = /^tern sim listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(line.toString());
      expect(match).not.toBeNull();
      const response = await fetch(`${match![1]}/health`);
      expect(await response.json()).toEqual({ status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});
