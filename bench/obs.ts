import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { loadavg } from 'node:os';
import type {
  ClientToServerEvents,
  EventEnvelope,
  ServerToClientEvents,
} from '@tern/shared/protocol/events';
import { io, type Socket } from 'socket.io-client';
import { http } from '../test/helpers/http.ts';
import { type Stack, startStack, workerOpsUrl } from '../test/helpers/stack.ts';
import { telemetryPathCost } from './obs-telemetry-path.ts';
import { describeCost, median, noiseFloor, pairedCost, pct, verdict } from './paired-rounds.ts';
import { table } from './stats.ts';

/** Sessions each stack runs at once (closed loop), and turns per session. */
const SESSIONS = 16;
const TURNS = 8;
/** Fresh stacks per epoch; the second epoch starts them in the other order. */
const EPOCHS = 2;
/** Measurement windows per epoch, after a warm-up. */
const WINDOWS = 8;
const WINDOW_MS = 4_000;
const WARMUP_MS = 6_000;
/** Scrapes far more often than Prometheus's usual 15 s, so their cost shows if it matters. */
const SCRAPE_EVERY_MS = 2_000;
/** Blocks per mode of the in-process telemetry path measurement. */
const PATH_ROUNDS = 11;
const TARGET = 0.03;
/** An A/A run: the "on" stack is as plain as the other; every difference it reports is noise. */
const AA = process.argv.includes('--aa');
/** `--only=metrics` or `--only=tracing`: the "on" stack with one of the two, to split the cost. */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

const ROLES = ['api', 'gateway', 'worker-1'] as const;
type Role = (typeof ROLES)[number];
type Window = { rate: number; cpuMsPerTurn: Record<Role | 'total', number> };
type Mode = 'on' | 'off';

/**
 * Turn throughput with metrics and tracing on against the same Tern with both off, in one run:
 * two stacks (api, gateway, worker, their own Redis and simulator at zero latency), each with
 * 16 sessions sending their next message as soon as their last turn finished. The "on" stack
 * exports every span to an OTLP receiver in this process and has its three /metrics scraped every
 * two seconds.
 *
 * Both stacks run at the same time and are measured over the same windows: whatever else loads
 * this shared two-core machine (and it swings throughput by tens of percent within a minute)
 * weighs on both alike, and the scheduler shares the cores between them as it would between any
 * two busy processes, so the stack that needs more CPU per turn finishes fewer turns. Each window
 * gives one pair; the figures are the medians of the pairs with their spread and a bootstrap
 * interval. Two processes running the same code also differ by a few percent for as long as they
 * live, so the run is repeated on fresh stacks started in the other order (epochs), and
 * `--aa` runs the whole method with both stacks plain, to show what it reports when there is
 * nothing to find. Last, the worker's telemetry path is measured in-process, where no other
 * process's load reaches it.
 */
export async function run(): Promise<void> {
  const loadBefore = loadavg();
  const sink = await startSpanSink();
  const windows: Record<Mode, Window[]> = { on: [], off: [] };
  const perEpoch: string[] = [];
  let scrapes = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const order: Mode[] = epoch % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    const stacks = {} as Record<Mode, Stack>;
    for (const mode of order) stacks[mode] = await startStack({ env: envOf(mode, sink.url) });
    const scraped = !AA && ONLY !== 'tracing';
    const scraper = scraperOf(stacks.on, scraped ? SCRAPE_EVERY_MS : undefined);
    const drivers = { on: await driver(stacks.on), off: await driver(stacks.off) };
    try {
      drivers.on.start();
      drivers.off.start();
      await sleep(WARMUP_MS);
      const mine: Record<Mode, Window[]> = { on: [], off: [] };
      for (let w = 0; w < WINDOWS; w++) {
        const before = { on: drivers.on.sample(), off: drivers.off.sample() };
        await sleep(WINDOW_MS);
        for (const mode of ['on', 'off'] as const) {
          mine[mode].push(windowOf(before[mode], drivers[mode].sample()));
        }
      }
      for (const mode of ['on', 'off'] as const) windows[mode].push(...mine[mode]);
      const cost = pairedCost(
        mine.off.map((w) => w.rate),
        mine.on.map((w) => w.rate),
        true,
      );
      perEpoch.push(
        `epoch ${epoch + 1} (${order.join(' stack first, then ')}): ${describeCost(cost)}`,
      );
    } finally {
      scraper.stop();
      scrapes += scraper.count();
      await Promise.all([drivers.on.stop(), drivers.off.stop()]);
      await Promise.all([stacks.on.stop(), stacks.off.stop()]);
    }
  }
  await sink.close();
  const path = await telemetryPathCost(PATH_ROUNDS);
  report(windows, perEpoch, path, { spans: sink.spans(), scrapes, loadBefore });
}

function envOf(mode: Mode, sinkUrl: string): Record<string, string> {
  const plain = { TERN_METRICS: '0', WORKER_CONCURRENCY: '32' };
  if (mode === 'off' || AA) return plain;
  const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_BSP_SCHEDULE_DELAY: '1000' };
  if (ONLY === 'metrics') return { WORKER_CONCURRENCY: '32' };
  if (ONLY === 'tracing') return { ...plain, ...tracing };
  return { ...tracing, WORKER_CONCURRENCY: '32' };
}

type Sample = { at: number; turns: number; cpu: Record<Role, number> };

function windowOf(before: Sample, after: Sample): Window {
  const turns = Math.max(1, after.turns - before.turns);
  const per = (role: Role) => (after.cpu[role] - before.cpu[role]) / turns;
  return {
    rate: (after.turns - before.turns) / ((after.at - before.at) / 1000),
    cpuMsPerTurn: {
      api: per('api'),
      gateway: per('gateway'),
      'worker-1': per('worker-1'),
      total: ROLES.reduce((sum, role) => sum + per(role), 0),
    },
  };
}

function report(
  windows: Record<Mode, Window[]>,
  perEpoch: string[],
  path: { on: number[]; off: number[] },
  extra: { spans: number; scrapes: number; loadBefore: number[] },
): void {
  const cpu = (mode: Mode, role: Role | 'total') => windows[mode].map((w) => w.cpuMsPerTurn[role]);
  const rates = (mode: Mode) => windows[mode].map((w) => w.rate);
  const row = (name: string, mode: Mode) => [
    name,
    median(rates(mode)).toFixed(1),
    pct(noiseFloor(rates(mode))).slice(1),
    median(cpu(mode, 'total')).toFixed(2),
    ROLES.map((role) => median(cpu(mode, role)).toFixed(2)).join(' / '),
    pct(noiseFloor(cpu(mode, 'total'))).slice(1),
  ];
  const on = AA ? 'plain stack "on" (A/A run)' : ONLY ? `${ONLY} only on` : 'metrics + tracing on';
  console.log(
    table(
      ['mode', 'turns/s', 'noise', 'CPU ms/turn', 'api / gateway / worker', 'noise'],
      [row('metrics + tracing off', 'off'), row(on, 'on')],
    ),
  );
  console.log(
    '(medians of the windows; noise: median difference between consecutive windows of one stack)',
  );
  const throughput = pairedCost(rates('off'), rates('on'), true);
  const cpuTotal = pairedCost(cpu('off', 'total'), cpu('on', 'total'), false);
  console.log(`\ncost of ${on}, window by window against the other stack in the same window:`);
  console.log(`  throughput      ${describeCost(throughput)}`);
  for (const line of perEpoch) console.log(`    ${line}`);
  console.log(`  CPU per turn    ${describeCost(cpuTotal)}`);
  for (const role of ROLES) {
    const cost = pairedCost(cpu('off', role), cpu('on', role), false);
    console.log(`    ${role.padEnd(13)} ${describeCost(cost)}`);
  }
  console.log(
    `  target ≤ ${pct(TARGET).slice(1)}: throughput ${verdict(throughput, TARGET)}; ` +
      `CPU per turn ${verdict(cpuTotal, TARGET)}`,
  );

  const pathOff = median(path.off);
  const pathOn = median(path.on);
  const pathCost = median(path.on.map((x, i) => x - (path.off[i] as number)));
  const workerMs = median(cpu('off', 'worker-1'));
  console.log(
    `\nthe worker's telemetry path in-process (agent loop, TurnTelemetry, EventPublisher; model, ` +
      `store and Redis in memory; ${PATH_ROUNDS} blocks per mode): ${pathOff.toFixed(0)} µs of CPU ` +
      `per turn off, ${pathOn.toFixed(0)} µs on: ${pathCost.toFixed(0)} µs per turn, ` +
      `${pct(pathCost / 1000 / workerMs).slice(1)} of the ${workerMs.toFixed(2)} ms a worker spends ` +
      'per turn end to end (hot caches here: a lower bound of the cost in a busy process).',
  );
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  console.log(
    `\n${SESSIONS} sessions per stack (closed loop, ${TURNS} turns each, half with a read_file ` +
      `call); ${EPOCHS} epochs of fresh stacks, ${WINDOWS} windows of ${WINDOW_MS / 1000} s each ` +
      `after ${WARMUP_MS / 1000} s of warm-up; ${extra.spans} spans exported, ${extra.scrapes} ` +
      'scrapes; 1 api, 1 gateway, 1 worker per stack, simulator at zero latency; load average ' +
      `${load(extra.loadBefore)} before, ${load(loadavg())} after.`,
  );
  const list = (mode: Mode) =>
    windows[mode].map((w) => `${w.rate.toFixed(0)}/${w.cpuMsPerTurn.total.toFixed(1)}`).join(' ');
  console.log(`windows (turns/s / CPU ms per turn): off ${list('off')}; on ${list('on')}`);
}

/** CPU time (user + system, ms) each of the stack's api, gateway and worker processes has used. */
function cpuMs(stack: Stack): Record<Role, number> {
  const out = { api: 0, gateway: 0, 'worker-1': 0 };
  for (const proc of stack.processes) {
    const role = ROLES.find((r) => r === proc.name);
    if (!role || proc.child.pid === undefined) continue;
    const stat = readFileSync(`/proc/${proc.child.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out[role] = (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
  }
  return out;
}

/**
 * Keeps `SESSIONS` sessions busy on one stack, each sending its next message when its last turn
 * finished (a new session after `TURNS` turns), over one socket; counts the turns that finished.
 */
async function driver(stack: Stack) {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(stack.gatewayUrl, {
    transports: ['websocket'],
    reconnection: false,
    auth: { token: stack.token },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const waiting = new Map<string, () => void>();
  const early = new Set<string>();
  let finished = 0;
  socket.on('event', ({ event }: EventEnvelope) => {
    if (event.type !== 'turn_finished') return;
    finished += 1;
    const wake = waiting.get(event.turnId);
    if (wake) wake();
    else early.add(event.turnId);
  });
  const done = (turnId: string) =>
    new Promise<void>((resolve, reject) => {
      if (early.delete(turnId)) return resolve();
      const timer = setTimeout(() => reject(new Error(`turn ${turnId} never finished`)), 60_000);
      waiting.set(turnId, () => {
        waiting.delete(turnId);
        clearTimeout(timer);
        resolve();
      });
    });

  let running = false;
  async function session(): Promise<void> {
    while (running) {
      const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
        files: { 'README.md': 'benchmark workspace\nline two' },
      });
      const id = created.body.session.id as string;
      await new Promise((resolve) => socket.emit('subscribe', { sessionId: id }, resolve));
      for (let t = 0; t < TURNS && running; t++) {
        const text = t % 2 === 0 ? 'Please read README.md' : `hello number ${t}`;
        const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text });
        if (posted.status !== 202) throw new Error(`POST /messages answered ${posted.status}`);
        await done(posted.body.turnId as string);
      }
      socket.emit('unsubscribe', { sessionId: id });
    }
  }
  let loops: Promise<void>[] = [];
  return {
    start() {
      running = true;
      loops = Array.from({ length: SESSIONS }, () => session());
    },
    /** Turns finished so far and the CPU the stack's processes have used, now. */
    sample: (): Sample => ({ at: performance.now(), turns: finished, cpu: cpuMs(stack) }),
    async stop() {
      running = false;
      await Promise.all(loops);
      socket.close();
    },
  };
}

/** Fetches the api's, gateway's and worker's /metrics every `ms`, as Prometheus would. */
function scraperOf(stack: Stack, ms: number | undefined) {
  const worker = stack.processes.find((p) => p.name === 'worker-1');
  const urls = [stack.apiUrl, stack.gatewayUrl, ...(worker ? [workerOpsUrl(worker)] : [])].map(
    (u) => `${u}/metrics`,
  );
  let count = 0;
  const timer =
    ms === undefined
      ? undefined
      : setInterval(() => {
          for (const url of urls) {
            fetch(url)
              .then((r) => r.text())
              .then(
                () => {
                  count += 1;
                },
                () => {},
              );
          }
        }, ms);
  return { stop: () => clearInterval(timer), count: () => count };
}

/** An OTLP/HTTP endpoint that accepts span batches and counts them, at little cost to this process. */
async function startSpanSink() {
  let spans = 0;
  const marker = Buffer.from('"spanId"');
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      for (let at = body.indexOf(marker); at !== -1; at = body.indexOf(marker, at + 1)) spans++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
