import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { connectCollector, finishedTurns } from '../test/helpers/event-collector.ts';
import { http } from '../test/helpers/http.ts';
import type { Stack } from '../test/helpers/stack.ts';
import { monitorRedis } from './cluster-redis-monitor.ts';
import { ms, summarize, table } from './stats.ts';

const TURNS = 100;
const SESSIONS = 40;
const TURNS_PER_SESSION = 3;

/**
 * Figure 1: enqueue → turn start with idle workers, beside a bare BullMQ Queue/Worker on the same
 * redis-server. Both are timed by Redis (MONITOR): Tern from its API's job add to the worker's
 * publish of `turn_started` (lease held, log and workspace loaded), the floor from the add to the
 * first command its processor sends. One turn at a time; a session's first turn also creates its
 * workspace on the worker, so first and later turns are reported apart.
 */
export async function enqueueToStart(stack: Stack, concurrency: number): Promise<string> {
  const raw = await rawFloor(stack.redisUrl, concurrency);
  const monitor = await monitorRedis(stack.redisUrl);
  const collector = await connectCollector(stack.gatewayUrl);
  const first = { pickup: [] as number[], lease: [] as number[], start: [] as number[] };
  const later = { pickup: [] as number[], lease: [] as number[], start: [] as number[] };
  try {
    for (let i = 0; i < SESSIONS + 5; i++) {
      const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {});
      const id = created.body.session.id as string;
      await collector.subscribe(id, '0-0');
      for (let t = 1; t <= TURNS_PER_SESSION; t++) {
        const from = monitor.commands.at(-1)?.atUs ?? 0;
        const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, {
          text: 'hello',
        });
        const turnId = posted.body.turnId as string;
        await collector.waitFor((all) => finishedTurns(all).includes(turnId), 10_000);
        // MONITOR lines arrive on their own connection; give the last ones a moment.
        await new Promise((r) => setTimeout(r, 5));
        const added = monitor.firstWith([`turn-${id}-${t}`], from);
        if (added === undefined) throw new Error(`job of ${turnId} not seen in MONITOR`);
        // The worker's first command for the job: it counts the turn as no longer queued.
        const pickedUp = monitor.firstWith(['tern:fair:queued'], added + 1);
        const leased = monitor.firstWith([`{${id}}:lease`], added);
        const startedAt = monitor.firstWith(['"turn_started"', turnId], added);
        if (pickedUp === undefined || leased === undefined || startedAt === undefined)
          throw new Error(`turn ${turnId} not seen in MONITOR`);
        if (i < 5) continue; // warm-up
        const into = t === 1 ? first : later;
        into.pickup.push((pickedUp - added) / 1000);
        into.lease.push((leased - added) / 1000);
        into.start.push((startedAt - added) / 1000);
      }
    }
  } finally {
    collector.close();
    await monitor.stop();
  }
  const floorMedian = summarize(raw.monitored).median;
  const row = (name: string, s: number[], overFloor = true) => {
    const sum = summarize(s);
    return [
      name,
      String(sum.n),
      ms(sum.median),
      ms(sum.p99),
      overFloor ? `${(sum.median - floorMedian).toFixed(2)} ms` : '',
    ];
  };
  return [
    table(
      ['add → processor start (Redis clock)', 'n', 'median', 'p99', 'over floor'],
      [
        row('raw BullMQ: add → first processor command (floor)', raw.monitored),
        row('raw BullMQ: add → processor entry (bench clock)', raw.clocked, false),
        row('tern later turn: → job picked up', later.pickup),
        row('tern later turn: → lease taken', later.lease),
        row('tern later turn: → turn_started (log loaded)', later.start),
        row('tern first turn: → job picked up', first.pickup),
        row('tern first turn: → turn_started (workspace created)', first.start),
      ],
    ),
    `Target: tern median ≤ floor + 0.5 ms. Times are Redis's own (MONITOR, µs), from the command that adds the job to a command the processor sends: the floor's first command; Tern's first (fair-queue count), its lease script, and its publish of turn_started (lease held, log and workspace loaded). "bench clock" is performance.now() around Queue.add → processor entry in this process. Workers idle; ${SESSIONS} sessions × ${TURNS_PER_SESSION} turns, one at a time.`,
  ].join('\n');
}

async function rawFloor(redisUrl: string, concurrency: number) {
  const name = 'bench-raw-floor';
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection });
  const marker = new Redis(redisUrl);
  const running = new Map<string, (at: number) => void>();
  const worker = new Worker(
    name,
    async (job: Job) => {
      const at = performance.now();
      await marker.echo(`raw-started-${job.id}`);
      running.get(job.id ?? '')?.(at);
    },
    { connection, concurrency },
  );
  await worker.waitUntilReady();
  const monitor = await monitorRedis(redisUrl);
  const monitored: number[] = [];
  const clocked: number[] = [];
  try {
    for (let i = 0; i < TURNS + 10; i++) {
      // Dots end the ids, so that raw-1. is not found inside raw-10.
      const jobId = `raw-${i}.`;
      const from = monitor.commands.at(-1)?.atUs ?? 0;
      const processed = new Promise<number>((r) => running.set(jobId, r));
      const before = performance.now();
      // Prioritised, as Tern's fair queue adds every turn.
      await queue.add('turn', { i }, { jobId, priority: 1, removeOnComplete: true });
      const startedAt = await processed;
      running.delete(jobId);
      await new Promise((r) => setTimeout(r, 5));
      const added = monitor.firstWith([jobId], from);
      const echoed = monitor.firstWith([`raw-started-${jobId}`], from);
      if (added === undefined || echoed === undefined) throw new Error(`${jobId} not seen`);
      if (i < 10) continue; // warm-up
      monitored.push((echoed - added) / 1000);
      clocked.push(startedAt - before);
    }
  } finally {
    await monitor.stop();
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    marker.disconnect();
  }
  return { monitored, clocked };
}
