import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserStore } from '@tern/shared/auth/user-store';
import { forgetTokenFor, useTokenFor } from './auth-tokens.ts';
import { freePort } from './free-port.ts';
import { startRedis, type TestRedis } from './redis-server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const entries = {
  api: join(root, 'api/src/api-main.ts'),
  gateway: join(root, 'api/src/gateway-main.ts'),
  worker: join(root, 'worker/src/worker-main.ts'),
  dispatcher: join(root, 'worker/src/dispatcher-main.ts'),
  sim: join(root, 'sim/src/sim-main.ts'),
  cli: join(root, 'cli/bin/tern.ts'),
};
const uiDir = join(root, 'ui');
const nextBin = join(root, 'node_modules/next/dist/bin/next');

/**
 * How long a process may take to come up. Generous: on a 2-core machine running two stacks at
 * once, eight Node processes loading their modules together take far longer than alone.
 */
const STARTUP_MS = 45_000;

export type StackProcess = { name: string; child: ChildProcess; logFile: string };

export type Stack = {
  apiUrl: string;
  /** Every API process's URL (`apiUrl` first), with `apis: n`. */
  apiUrls: string[];
  gatewayUrl: string;
  /** Every gateway's URL (`gatewayUrl` first), with `gateways: n`. */
  gatewayUrls: string[];
  uiUrl: string;
  simUrl: string;
  redisUrl: string;
  redis: TestRedis;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** The API token of the stack's user (`tester`, not an admin), used by the helpers by default. */
  token: string;
  /** Creates another user; returns its token. */
  addUser(name: string, options?: { admin?: boolean }): Promise<string>;
  processes: StackProcess[];
  /** The worker processes started so far, in start order, dead ones included (for `kill`). */
  readonly workers: StackProcess[];
  /** The batch dispatcher processes started so far, like `workers`. */
  readonly dispatchers: StackProcess[];
  /** Starts one more worker process. */
  addWorker(): Promise<StackProcess>;
  /** Starts one more batch dispatcher process (`tern dispatcher`). */
  addDispatcher(): Promise<StackProcess>;
  /** The last lines a process logged, for failure messages. */
  logs(name: string): string;
  stop(): Promise<void>;
};

export type StackOptions = {
  ui?: boolean;
  workers?: number;
  /** Batch dispatcher processes (none by default), all on the same Redis. */
  dispatchers?: number;
  /** API processes (1 by default), all on the same Redis. */
  apis?: number;
  /** Gateway processes (1 by default), all on the same Redis. */
  gateways?: number;
  /** Simulator latency, e.g. { SIM_ITL_MS: '20' } so a browser can see tokens arrive. */
  simEnv?: Record<string, string>;
  env?: Record<string, string>;
};

/**
 * Tern as separate OS processes on free ports: a private redis-server, the simulator, api,
 * gateway, workers and optionally the built UI. Nothing is mocked.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const redis = await startRedis();
  const dataDir = mkdtempSync(join(tmpdir(), 'tern-stack-'));
  // The sandboxed tools run as an unprivileged uid that must be able to enter the workspaces.
  chmodSync(dataDir, 0o755);
  const [apiPort, gatewayPort, simPort, uiPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const moreApiPorts = await Promise.all(
    Array.from({ length: (options.apis ?? 1) - 1 }, () => freePort()),
  );
  const moreGatewayPorts = await Promise.all(
    Array.from({ length: (options.gateways ?? 1) - 1 }, () => freePort()),
  );
  const users = new UserStore(redis.client);
  const addUser = async (name: string, opts: { admin?: boolean } = {}) => {
    const issued = await users.addUser(name, { admin: opts.admin ?? false });
    if (issued === 'name_taken') throw new Error(`user ${name} exists`);
    return issued.token;
  };
  const token = await addUser('tester');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL: redis.url,
    BLOB_STORE: `file:${join(dataDir, 'blobs')}`,
    TERN_DATA_DIR: dataDir,
    TERN_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    GATEWAY_PORT: String(gatewayPort),
    SIM_PORT: String(simPort),
    UI_PORT: String(uiPort),
    WORKER_METRICS_PORT: '0',
    DISPATCHER_METRICS_PORT: '0',
    // The batch dispatcher's `concurrency: auto` reads the load of the stack's model server.
    BATCH_VLLM_METRICS_URL: `http://127.0.0.1:${simPort}/metrics`,
    LOG_LEVEL: 'info',
    NEXT_TELEMETRY_DISABLED: '1',
    // Tests and benchmarks drive the API far faster than a person; auth.test.ts sets its own.
    API_RATE_LIMIT_PER_SEC: '10000',
    API_RATE_LIMIT_BURST: '10000',
    // Every provider is served by the simulator, so sessions can move between them.
    ANTHROPIC_API_KEY: 'sk-ant-sim',
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${simPort}`,
    GEMINI_API_KEY: 'AIza-sim',
    GEMINI_BASE_URL: `http://127.0.0.1:${simPort}`,
    ...options.env,
  };
  const processes: StackProcess[] = [];
  const spawnRole = (
    name: string,
    args: string[],
    extraEnv: NodeJS.ProcessEnv = {},
    cwd?: string,
  ) => {
    const logFile = join(dataDir, `${name}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, args, {
      env: { ...env, ...extraEnv },
      cwd: cwd ?? root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const proc = { name, child, logFile };
    processes.push(proc);
    return proc;
  };
  const logs = (name: string) => {
    const proc = processes.find((p) => p.name === name);
    if (!proc || !existsSync(proc.logFile)) return '';
    return readFileSync(proc.logFile, 'utf8').split('\n').slice(-40).join('\n');
  };

  const base = (port: number) => `http://127.0.0.1:${port}`;
  const apiUrls = [apiPort, ...moreApiPorts].map(base);
  const gatewayUrls = [gatewayPort, ...moreGatewayPorts].map(base);
  const stack: Stack = {
    apiUrl: base(apiPort),
    apiUrls,
    gatewayUrl: base(gatewayPort),
    gatewayUrls,
    uiUrl: base(uiPort),
    simUrl: base(simPort),
    redisUrl: redis.url,
    redis,
    dataDir,
    env,
    token,
    addUser,
    processes,
    logs,
    get workers() {
      return processes.filter((p) => p.name.startsWith('worker-'));
    },
    get dispatchers() {
      return processes.filter((p) => p.name.startsWith('dispatcher-'));
    },
    async addWorker() {
      const n = processes.filter((p) => p.name.startsWith('worker')).length + 1;
      const proc = spawnRole(`worker-${n}`, [entries.worker]);
      await waitForLog(proc, 'worker ready', STARTUP_MS, logs);
      return proc;
    },
    async addDispatcher() {
      const n = processes.filter((p) => p.name.startsWith('dispatcher-')).length + 1;
      const proc = spawnRole(`dispatcher-${n}`, [entries.dispatcher]);
      await waitForLog(proc, 'dispatcher ready', STARTUP_MS, logs);
      return proc;
    },
    async stop() {
      for (const url of [...apiUrls, ...gatewayUrls]) forgetTokenFor(url);
      await Promise.all(processes.map((p) => stopProcess(p.child)));
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  for (const url of [...apiUrls, ...gatewayUrls]) useTokenFor(url, token);
  try {
    const sim = spawnRole('sim', [entries.sim], options.simEnv ?? {});
    await waitForHttp(`${stack.simUrl}/health`, sim, logs);
    const api = spawnRole('api', [entries.api]);
    const moreApis = moreApiPorts.map((port, i) =>
      spawnRole(`api-${i + 2}`, [entries.api], { API_PORT: String(port) }),
    );
    const gateway = spawnRole('gateway', [entries.gateway]);
    const moreGateways = moreGatewayPorts.map((port, i) =>
      spawnRole(`gateway-${i + 2}`, [entries.gateway], { GATEWAY_PORT: String(port) }),
    );
    const workers = Array.from({ length: options.workers ?? 1 }, (_, i) =>
      spawnRole(`worker-${i + 1}`, [entries.worker]),
    );
    const dispatchers = Array.from({ length: options.dispatchers ?? 0 }, (_, i) =>
      spawnRole(`dispatcher-${i + 1}`, [entries.dispatcher]),
    );
    await Promise.all([
      waitForHttp(`${stack.apiUrl}/readyz`, api, logs),
      ...moreApis.map((a, i) => waitForHttp(`${apiUrls[i + 1]}/readyz`, a, logs)),
      waitForHttp(`${stack.gatewayUrl}/readyz`, gateway, logs),
      ...moreGateways.map((g, i) => waitForHttp(`${gatewayUrls[i + 1]}/readyz`, g, logs)),
      ...workers.map((w) => waitForLog(w, 'worker ready', STARTUP_MS, logs)),
      ...dispatchers.map((d) => waitForLog(d, 'dispatcher ready', STARTUP_MS, logs)),
    ]);
    if (options.ui) {
      ensureUiBuilt();
      const ui = spawnRole(
        'ui',
        [nextBin, 'start', '-p', String(uiPort), '-H', '127.0.0.1'],
        {},
        uiDir,
      );
      await waitForHttp(`${stack.uiUrl}/api/config`, ui, logs, 60_000);
    }
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

/** Builds the UI once if no build exists (next build takes ~10 s here). */
export function ensureUiBuilt(): void {
  if (existsSync(join(uiDir, '.next', 'BUILD_ID'))) return;
  const result = spawnSync(process.execPath, [nextBin, 'build'], {
    cwd: uiDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(`next build failed:\n${result.stdout}\n${result.stderr}`);
}

export async function waitForHttp(
  url: string,
  proc: StackProcess,
  logs: (name: string) => string,
  timeoutMs = STARTUP_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${logs(proc.name)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${proc.name} did not answer ${url}:\n${logs(proc.name)}`);
}

export async function waitForLog(
  proc: StackProcess,
  text: string,
  timeoutMs: number,
  logs: (name: string) => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${logs(proc.name)}`);
    }
    if (existsSync(proc.logFile) && readFileSync(proc.logFile, 'utf8').includes(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${proc.name} never logged "${text}":\n${logs(proc.name)}`);
}

export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The ops server (`/healthz`, `/readyz`, `/metrics`) of a worker or a dispatcher, from its
 * `worker ready` or `dispatcher ready` line.
 */
export function workerOpsUrl(proc: StackProcess): string {
  const ready = readFileSync(proc.logFile, 'utf8')
    .split('\n')
    .find((line) => line.includes('"worker ready"') || line.includes('"dispatcher ready"'));
  const port = ready ? (JSON.parse(ready) as { opsPort?: number }).opsPort : undefined;
  if (!port) throw new Error(`${proc.name} has not logged its ops port`);
  return `http://127.0.0.1:${port}`;
}
