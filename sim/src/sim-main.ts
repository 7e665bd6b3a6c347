/**
 * Process entry of the simulator: `npx node sim/src/sim-main.ts`. Configuration comes from the
 * environment, read here and nowhere else in the package.
 */
import { isSimFault, type SimFault } from './faults.ts';
import { type RouteLatency, SIM_ROUTES, type SimRoute } from './latency.ts';
import {
  isOpenAiDialectName,
  OPENAI_DIALECT_NAMES,
  type OpenAiDialectName,
} from './openai/openai-dialect.ts';
import type { Scenario } from './scenario.ts';
import { loadScenarioDir } from './scenario-files.ts';
import { createSimServer } from './server.ts';

function fail(message: string): never {
  console.error(`tern sim: ${message}`);
  process.exit(1);
}

function optionalNumber(name: string): number | undefined {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) fail(`${name} must be a number >= 0, got "${raw}"`);
  return value;
}

const numberFromEnv = (name: string, fallback: number) => optionalNumber(name) ?? fallback;

/** 0 means unlimited, the natural reading of an unset or zero cap in an env file. */
function unlimitedIfZero(name: string): number {
  const value = numberFromEnv(name, 0);
  return value === 0 ? Number.POSITIVE_INFINITY : value;
}

function faultFromEnv(): SimFault | undefined {
  const raw = process.env.SIM_FAULT?.trim();
  if (raw === undefined || raw === '' || raw === 'none') return undefined;
  if (isSimFault(raw)) return raw;
  fail(`unknown SIM_FAULT "${raw}"`);
}

function dialectFromEnv(): OpenAiDialectName | undefined {
  const raw = process.env.SIM_DIALECT?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (isOpenAiDialectName(raw)) return raw;
  fail(`unknown SIM_DIALECT "${raw}" (expected one of ${OPENAI_DIALECT_NAMES.join(', ')})`);
}

/** `SIM_OPENAI_TTFT_MS`, `SIM_ANTHROPIC_ITL_MS`, …: a wire's own latency over the server's. */
function latencyByRouteFromEnv(): Partial<Record<SimRoute, RouteLatency>> {
  const byRoute: Partial<Record<SimRoute, RouteLatency>> = {};
  for (const route of SIM_ROUTES) {
    const prefix = `SIM_${route.toUpperCase()}_`;
    const ttftMs = optionalNumber(`${prefix}TTFT_MS`);
    const itlMs = optionalNumber(`${prefix}ITL_MS`);
    if (ttftMs === undefined && itlMs === undefined) continue;
    byRoute[route] = {
      ...(ttftMs === undefined ? {} : { ttftMs }),
      ...(itlMs === undefined ? {} : { itlMs }),
    };
  }
  return byRoute;
}

async function scenariosFromEnv(): Promise<Scenario[]> {
  const dir = process.env.SIM_SCENARIOS_DIR?.trim();
  if (!dir) return [];
  try {
    return await loadScenarioDir(dir);
  } catch (error) {
    fail(`SIM_SCENARIOS_DIR: ${(error as Error).message}`);
  }
}

const jitter = numberFromEnv('SIM_JITTER', 0);
if (jitter > 1) fail(`SIM_JITTER must be in 0..1, got ${jitter}`);
const server = await createSimServer({
  port: numberFromEnv('SIM_PORT', 4010),
  host: process.env.TERN_HOST?.trim() || '127.0.0.1',
  seed: numberFromEnv('SIM_SEED', 0),
  fault: faultFromEnv(),
  dialect: dialectFromEnv(),
  scenarios: await scenariosFromEnv(),
  servedModelName: process.env.SIM_SERVED_MODEL_NAME?.trim() || undefined,
  latency: {
    ttftMs: numberFromEnv('SIM_TTFT_MS', 0),
    itlMs: numberFromEnv('SIM_ITL_MS', 0),
    jitter,
    concurrency: unlimitedIfZero('SIM_CONCURRENCY'),
    batchKnee: unlimitedIfZero('SIM_BATCH_KNEE'),
    kvCacheTokens: unlimitedIfZero('SIM_KV_CACHE_TOKENS'),
  },
  latencyByRoute: latencyByRouteFromEnv(),
});
console.log(`tern sim listening on ${server.url}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
