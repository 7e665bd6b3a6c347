import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Config, loadConfig, usesBuiltInSimulator } from '@tern/shared/config/config';
import { type AdminBootstrap, bootstrapAdmin } from '../launch/admin-bootstrap.ts';
import { type Child, spawnChild, stopChildren, waitForHttp } from '../launch/child-process.ts';
import { ensureRedis } from '../launch/embedded-redis.ts';
import { nextBin, roleEntries, uiDir } from '../launch/role-entries.ts';

export type UpOptions = { workers: number; ui: boolean };

const node = process.execPath;

/**
 * Runs every role on this machine as separate processes: api, gateway, N workers, a batch
 * dispatcher, the UI, and the simulator when no model provider is configured. Returns when they
 * all stop.
 */
export async function up(options: UpOptions): Promise<number> {
  const config = loadConfig();
  const dataDir = resolve(config.TERN_DATA_DIR);
  const logDir = join(dataDir, 'logs');
  const children: Child[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await stopChildren([...children].reverse());
  };
  process.once('SIGINT', () => void stopAll());
  process.once('SIGTERM', () => void stopAll());

  try {
    const redis = await ensureRedis(config.REDIS_URL, dataDir, logDir);
    if (redis.child) children.push(redis.child);
    if (redis.note) console.log(`tern: no Redis answered at ${config.REDIS_URL}; ${redis.note}`);
    const admin = await bootstrapAdmin(config.REDIS_URL, dataDir);

    const env = childEnv(config, dataDir);
    const host = config.TERN_HOST;
    const probe = (port: number) => `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

    if (usesBuiltInSimulator(config)) {
      const sim = spawnChild('sim', node, [roleEntries.sim], { env, logDir });
      children.push(sim);
      await waitForHttp(`${probe(config.SIM_PORT)}/health`, 15_000, sim);
    }
    const api = spawnChild('api', node, [roleEntries.api], { env, logDir });
    const gateway = spawnChild('gateway', node, [roleEntries.gateway], { env, logDir });
    children.push(api, gateway);
    for (let i = 0; i < options.workers; i++) {
      children.push(
        spawnChild(`worker-${i + 1}`, node, [roleEntries.worker], {
          env: { ...env, WORKER_METRICS_PORT: '0' },
          logDir,
        }),
      );
    }
    // One batch dispatcher: batch targets wait in it for the workers' turns, they run no agent.
    children.push(
      spawnChild('dispatcher', node, [roleEntries.dispatcher], {
        env: { ...env, DISPATCHER_METRICS_PORT: '0' },
        logDir,
      }),
    );
    await Promise.all([
      waitForHttp(`${probe(config.API_PORT)}/readyz`, 20_000, api),
      waitForHttp(`${probe(config.GATEWAY_PORT)}/readyz`, 20_000, gateway),
    ]);
    if (options.ui) {
      await ensureUiBuilt(env);
      const ui = spawnChild(
        'ui',
        node,
        [nextBin(), 'start', '-p', String(config.UI_PORT), '-H', host],
        {
          env,
          cwd: uiDir,
          logDir,
        },
      );
      children.push(ui);
      await waitForHttp(`${probe(config.UI_PORT)}/api/config`, 30_000, ui);
    }
    printBanner(config, options, logDir, probe, admin);
  } catch (error) {
    console.error(`tern: ${(error as Error).message}`);
    await stopAll();
    return 1;
  }

  // Any role ending on its own is an outage: stop the rest and say which one.
  const first = await Promise.race(children.map((c) => c.exited.then((code) => ({ c, code }))));
  if (!stopping) {
    console.error(`tern: ${first.c.name} exited (code ${first.code}); stopping. Logs: ${logDir}`);
    await stopAll();
    return 1;
  }
  await Promise.all(children.map((c) => c.exited));
  return 0;
}

function childEnv(config: Config, dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REDIS_URL: config.REDIS_URL,
    TERN_DATA_DIR: dataDir,
    BLOB_STORE: process.env.BLOB_STORE ?? `file:${dataDir}`,
    TERN_MODEL: config.TERN_MODEL,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    NEXT_TELEMETRY_DISABLED: '1',
  };
}

export async function ensureUiBuilt(env: NodeJS.ProcessEnv): Promise<void> {
  if (existsSync(join(uiDir, '.next', 'BUILD_ID'))) return;
  console.log('tern: building the UI (first run only)…');
  const build = spawnChild('ui-build', node, [nextBin(), 'build'], { env, cwd: uiDir });
  if ((await build.exited) !== 0) throw new Error('the UI build failed (see above)');
}

function printBanner(
  config: Config,
  options: UpOptions,
  logDir: string,
  probe: (port: number) => string,
  admin: AdminBootstrap,
): void {
  const model = usesBuiltInSimulator(config)
    ? `${config.TERN_MODEL} (built-in simulator; set a provider key to use a real model)`
    : config.TERN_MODEL;
  // The fragment never leaves the browser (no server or proxy log sees it); the UI keeps the
  // token and removes it from the address bar.
  const ui = admin.issued
    ? `${probe(config.UI_PORT)}/#token=${admin.issued.token}`
    : probe(config.UI_PORT);
  const token = admin.issued
    ? [
        `  Admin    created user admin; its token (shown once, saved to ${admin.path}):`,
        `           ${admin.issued.token}`,
      ]
    : [`  Token    ${admin.path} or TERN_TOKEN (tern users add <name> for more users)`];
  const lines = [
    '',
    'Tern is running.',
    ...(options.ui ? [`  UI       ${ui}`] : []),
    `  API      ${probe(config.API_PORT)}`,
    `  Gateway  ${probe(config.GATEWAY_PORT)}`,
    `  Workers  ${options.workers}`,
    '  Batches  1 dispatcher',
    `  Model    ${model}`,
    `  Logs     ${logDir}`,
    ...token,
    '',
    'Press Ctrl+C to stop.',
  ];
  console.log(lines.join('\n'));
}
