import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.ts';
import { http } from '../helpers/http.ts';
import { runTern } from '../helpers/run-tern.ts';
import { entries, type Stack, startStack, stopProcess } from '../helpers/stack.ts';

const tern = runTern;

describe('tern run and tern chat stream turns through the API', () => {
  let stack: Stack;
  let clientEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    stack = await startStack();
    clientEnv = {
      TERN_API_URL: stack.apiUrl,
      TERN_GATEWAY_URL: stack.gatewayUrl,
      TERN_TOKEN: stack.token,
    };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('tern run prints the streamed answer and the tool calls, and exits 0', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      files: { 'notes.txt': 'Remember the tern migration' },
    });
    const id = created.body.session.id;
    const result = await tern(['run', '--session', id, 'What is in notes.txt?'], clientEnv);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Remember the tern migration');
    expect(result.stderr).toContain('read_file({"path":"notes.txt"})');
    expect(result.stderr).toMatch(/✓ read_file: Remember the tern migration/);
    const transcript = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    expect(transcript.body.entries.at(-1).text).toBe(result.stdout.trim());
  });

  it('tern chat answers each line in one session until an empty line', async () => {
    const result = await tern(['chat'], clientEnv, 'hello tern\nand again\n\n');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('You said: hello tern');
    expect(result.stdout).toContain('You said: and again');
    const id = /session (ses_\w+)/.exec(result.stderr)?.[1];
    const transcript = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    expect(transcript.body.session.inputs).toBe(2);
  });

  it('explains an unreachable API instead of crashing', async () => {
    const port = await freePort();
    const result = await tern(['run', 'hi'], {
      TERN_API_URL: `http://127.0.0.1:${port}`,
      TERN_TOKEN: stack.token,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the Tern API');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('says how to get a token when it has none, and refuses a revoked one', async () => {
    const none = await tern(['run', 'hi'], {
      ...clientEnv,
      TERN_TOKEN: '',
      TERN_DATA_DIR: '/nonexistent',
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no API token');
    expect(none.stderr).toContain('tern users add');

    const bad = await tern(['run', 'hi'], { ...clientEnv, TERN_TOKEN: `tern_${'z'.repeat(43)}` });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/API token is .*revoked/);
  });

  it('rejects unknown commands and bad flags with usage', async () => {
    expect((await tern(['frobnicate'], {})).code).toBe(2);
    const bad = await tern(['up', '--workers', 'zero'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--workers');
  });
});

describe('tern up', () => {
  let up: ChildProcess | undefined;
  let dataDir: string;
  afterAll(async () => {
    if (up) await stopProcess(up);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts a private Redis, the simulator, api, gateway and workers, and serves a turn', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tern-up-'));
    const [redisPort, apiPort, gatewayPort, simPort, uiPort] = await Promise.all(
      Array.from({ length: 5 }, freePort),
    );
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      TERN_DATA_DIR: dataDir,
      API_PORT: String(apiPort),
      GATEWAY_PORT: String(gatewayPort),
      SIM_PORT: String(simPort),
      UI_PORT: String(uiPort),
    };
    up = spawn(process.execPath, [entries.cli, 'up', '--workers', '2', '--no-ui'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    up.stdout?.on('data', (d) => {
      output += d;
    });
    up.stderr?.on('data', (d) => {
      output += d;
    });
    const deadline = Date.now() + 60_000;
    while (
      !output.includes('Press Ctrl+C to stop.') &&
      Date.now() < deadline &&
      up.exitCode === null
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toContain(`started a private redis-server on port ${redisPort}`);
    expect(output).toContain(`API      http://127.0.0.1:${apiPort}`);
    expect(output).toContain('Workers  2');
    expect(output).toContain('built-in simulator');
    // A fresh install gets an admin whose token is printed once and saved for the CLI.
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    expect(token).toMatch(/^tern_/);
    expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(output).toContain(token);

    const result = await tern(['run', 'hello from up'], {
      TERN_API_URL: `http://127.0.0.1:${apiPort}`,
      TERN_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
      TERN_DATA_DIR: dataDir,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('You said: hello from up');

    const exited = new Promise((r) => up?.once('exit', r));
    up.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Every role went down with it: the API no longer answers.
    await expect(fetch(`http://127.0.0.1:${apiPort}/healthz`)).rejects.toThrow();
    up = undefined;
  });
});
