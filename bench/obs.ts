import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type {
  ClientToServerEvents,
  EventEnvelope,
  ServerToClientEvents,
} from '@tern/shared/protocol/events';
import { io, type Socket } from 'socket.io-client';
import { http } from '../test/helpers/http.ts';
import { type Stack, startStack, workerOpsUrl } from '../test/helpers/stack.ts';
import { table } from './stats.ts';

/** Sessions driven at once, turns each, per measured round. */
const SESSIONS = 16;
const TURNS = 8;
const ROUNDS = 7;
/** Scrapes far more often than Prometheus's usual 15 s, so their cost shows if it matters. */
const SCRAPE_EVERY_MS = 2_000;

/**
 * Turn throughput with metrics and tracing on against the same Tern with both off, in one run:
 * two stacks (api, gateway, worker, their own Redis and simulator at zero latency), driven in
 * alternating rounds so that both see the same machine. The "on" stack exports every span to an
 * OTLP receiver in this process and has its three /metrics scraped every two seconds.
 *
 * Throughput on a shared two-core machine swings by tens of percent from round to round, so the
 * CPU time the api, gateway and worker processes spend per turn (from /proc, whatever else runs)
 * is reported beside it: that is what bounds throughput once the machine is saturated. The cost
 * is also taken round by round, each "on" round against the "off" round run right next to it,
 * so that a load that rises or falls over the run cancels out (the median of those pairs).
 */
export async function run(): Promise<void> {
  const sink = await startSpanSink();
  const observed = await startStack({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_BSP_SCHEDULE_DELAY: '1000',
      WORKER_CONCURRENCY: '32',
    },
  });
  const plain = await startStack({ env: { TERN_METRICS: '0', WORKER_CONCURRENCY: '32' } });
  const scraper = scrapeEvery(observed, SCRAPE_EVERY_MS);
  try {
    const drivers = { on: await driver(observed), off: await driver(plain) };
    // Warm up JIT, connections and caches on both.
    await drivers.on.round(4, 3);
    await drivers.off.round(4, 3);
    const rounds: { on: Round[]; off: Round[] } = { on: [], off: [] };
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so neither always follows the other's leftovers.
      const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const mode of order) rounds[mode].push(await drivers[mode].round(SESSIONS, TURNS));
    }
    drivers.on.close();
    drivers.off.close();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const figures = (mode: 'on' | 'off') => ({
      rate: median(rounds[mode].map((r) => r.rate)),
      cpu: median(rounds[mode].map((r) => r.cpuMsPerTurn)),
      rounds: rounds[mode]
        .map((r) => `${r.rate.toFixed(1)}/${r.cpuMsPerTurn.toFixed(1)}`)
        .join(' '),
    });
    const on = figures('on');
    const off = figures('off');
    const row = (name: string, f: ReturnType<typeof figures>) => [
      name,
      f.rate.toFixed(1),
      f.cpu.toFixed(2),
      f.rounds,
    ];
    console.log(
      table(
        ['mode', 'turns/s (median)', 'CPU ms/turn (median)', 'rounds: turns/s / CPU ms per turn'],
        [row('metrics + tracing off', off), row('metrics + tracing on', on)],
      ),
    );
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    const paired = (f: (on: Round, off: Round) => number) =>
      median(rounds.on.map((r, i) => f(r, rounds.off[i] as Round)));
    console.log(
      `\ncost of metrics + tracing (target ≤ 3%; negative: within noise): ` +
        `throughput ${pct((off.rate - on.rate) / off.rate)} by medians, ` +
        `${pct(paired((a, b) => (b.rate - a.rate) / b.rate))} by adjacent pairs; ` +
        `CPU per turn ${pct((on.cpu - off.cpu) / off.cpu)} by medians, ` +
        `${pct(paired((a, b) => (a.cpuMsPerTurn - b.cpuMsPerTurn) / b.cpuMsPerTurn))} by adjacent pairs`,
    );
    console.log(
      `${SESSIONS} sessions × ${TURNS} turns per round (half with a read_file call), ${ROUNDS} rounds each; ` +
        `${sink.spans()} spans exported, ${scraper.count()} scrapes; 1 api, 1 gateway, 1 worker per stack, ` +
        'simulator at zero latency, 2-core machine.',
    );
  } finally {
    scraper.stop();
    await Promise.all([observed.stop(), plain.stop()]);
    await sink.close();
  }
}

type Round = { rate: number; cpuMsPerTurn: number };

/** CPU time (user + system, ms) the stack's api, gateway and worker processes have used. */
function cpuMs(stack: Stack): number {
  let ticks = 0;
  for (const proc of stack.processes) {
    if (!['api', 'gateway', 'worker-1'].includes(proc.name) || proc.child.pid === undefined)
      continue;
    const stat = readFileSync(`/proc/${proc.child.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** Sends turns to one stack and waits for each to finish, over one socket for all sessions. */
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
  const finished = new Set<string>();
  const waiting = new Map<string, () => void>();
  socket.on('event', ({ event }: EventEnvelope) => {
    if (event.type !== 'turn_finished') return;
    finished.add(event.turnId);
    waiting.get(event.turnId)?.();
  });
  const done = (turnId: string) =>
    new Promise<void>((resolve, reject) => {
      if (finished.has(turnId)) return resolve();
      const timer = setTimeout(() => reject(new Error(`turn ${turnId} never finished`)), 60_000);
      waiting.set(turnId, () => {
        clearTimeout(timer);
        resolve();
      });
    });

  async function session(turns: number): Promise<void> {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      files: { 'README.md': 'benchmark workspace\nline two' },
    });
    const id = created.body.session.id as string;
    await new Promise((resolve) => socket.emit('subscribe', { sessionId: id }, resolve));
    for (let t = 0; t < turns; t++) {
      const text = t % 2 === 0 ? 'Please read README.md' : `hello number ${t}`;
      const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text });
      if (posted.status !== 202) throw new Error(`POST /messages answered ${posted.status}`);
      await done(posted.body.turnId as string);
    }
    socket.emit('unsubscribe', { sessionId: id });
  }

  return {
    /** Turns per second, and CPU per turn, over `sessions` sessions of `turns` turns each. */
    async round(sessions: number, turns: number): Promise<Round> {
      const cpuBefore = cpuMs(stack);
      const started = performance.now();
      await Promise.all(Array.from({ length: sessions }, () => session(turns)));
      const seconds = (performance.now() - started) / 1000;
      return {
        rate: (sessions * turns) / seconds,
        cpuMsPerTurn: (cpuMs(stack) - cpuBefore) / (sessions * turns),
      };
    },
    close: () => socket.close(),
  };
}

/** Fetches the api's, gateway's and worker's /metrics on an interval, as Prometheus would. */
function scrapeEvery(stack: Stack, ms: number) {
  const worker = stack.processes.find((p) => p.name === 'worker-1');
  const urls = [stack.apiUrl, stack.gatewayUrl, ...(worker ? [workerOpsUrl(worker)] : [])].map(
    (u) => `${u}/metrics`,
  );
  let count = 0;
  const timer = setInterval(() => {
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

/** An OTLP/HTTP endpoint that accepts span batches and counts them, nothing more. */
async function startSpanSink() {
  let spans = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      spans += body.split('"spanId"').length - 1;
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
