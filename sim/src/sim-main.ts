/**
 * Process entry of the simulator: `npx node sim/src/sim-main.ts`. Configuration comes from the
 * environment, read here and nowhere else in the package.
 */
import { isSimFault, type SimFault } from './faults.ts';
import { createSimServer } from './server.ts';

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`tern sim: ${name} must be a number >= 0, got "${raw}"`);
    process.exit(1);
  }
  return value;
}

function faultFromEnv(): SimFault | undefined {
  const raw = process.env.SIM_FAULT?.trim();
  if (raw === undefined || raw === '' || raw === 'none') return undefined;
  if (isSimFault(raw)) return raw;
  console.error(`tern sim: unknown SIM_FAULT "${raw}"`);
  process.exit(1);
}

const concurrency = numberFromEnv('SIM_CONCURRENCY', 0);
const server = await createSimServer({
  port: numberFromEnv('SIM_PORT', 4010),
  host: process.env.TERN_HOST?.trim() || '127.0.0.1',
  seed: numberFromEnv('SIM_SEED', 0),
  fault: faultFromEnv(),
  latency: {
    ttftMs: numberFromEnv('SIM_TTFT_MS', 0),
    itlMs: numberFromEnv('SIM_ITL_MS', 0),
    // 0 means unlimited, the natural reading of an unset or zero cap in an env file.
    concurrency: concurrency === 0 ? Number.POSITIVE_INFINITY : concurrency,
  },
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
