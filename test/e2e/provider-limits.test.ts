import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { type SimProcess, startSimProcess } from '../helpers/sim-process.ts';
import { type Stack, type StackOptions, startStack, workerOpsUrl } from '../helpers/stack.ts';

// Cluster-wide provider limits, checked from the provider's side: the simulator logs when each
// request arrived (GET /sim/requests), whichever of the three worker processes sent it.

type Logged = { route: string; at: number; endedAt?: number; status?: string; fault?: string };
const CHAT = '/v1/chat/completions';

async function simRequests(simUrl: string): Promise<Logged[]> {
  const res = await fetch(`${simUrl}/sim/requests`);
  const { requests } = (await res.json()) as { requests: Logged[] };
  return requests.filter((r) => r.route === CHAT);
}

/** The most requests that arrived within any `windowMs` (a closed window from each arrival). */
function busiestWindow(arrivals: readonly number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! <= sorted[start]! + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/** The sum of a metric's samples in a Prometheus exposition (e.g. a histogram's `_count`). */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

async function workerMetrics(stack: Stack): Promise<string[]> {
  const workers = stack.processes.filter((p) => p.name.startsWith('worker'));
  return Promise.all(workers.map(async (w) => (await fetch(`${workerOpsUrl(w)}/metrics`)).text()));
}

/**
 * A stack with three workers, started one after another: three at once can take longer than the
 * stack helper waits for each on a small, busy machine.
 */
function useThreeWorkers(options: StackOptions = {}): { stack: Stack; collector: Collector } {
  const handle = {} as { stack: Stack; collector: Collector };
  beforeAll(async () => {
    handle.stack = await startStack({ ...options, workers: 1 });
    await handle.stack.addWorker();
    await handle.stack.addWorker();
    handle.collector = await connectCollector(handle.stack.gatewayUrl);
  });
  afterAll(async () => {
    handle.collector?.close();
    await handle.stack?.stop();
  });
  return handle;
}

async function startTurn(
  stack: Stack,
  collector: Collector,
  session: Record<string, unknown> = {},
): Promise<{ sessionId: string; turnId: string }> {
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, session);
  expect(created.status).toBe(201);
  const sessionId = created.body.session.id as string;
  await collector.subscribe(sessionId, '0-0');
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${sessionId}/messages`, {
    text: 'hello there',
  });
  expect(posted.status).toBe(202);
  return { sessionId, turnId: posted.body.turnId as string };
}

const finishReasons = (collector: Collector, turnIds: readonly string[]) => {
  const wanted = new Set(turnIds);
  return collector.envelopes.flatMap((e) =>
    e.event.type === 'turn_finished' && wanted.has(e.event.turnId) ? [e.event.reason] : [],
  );
};

describe('a requests-per-minute limit shared by three workers', () => {
  const RPM = 60;
  const BURST = 3;
  const SESSIONS = 24;
  const handle = useThreeWorkers({
    env: {
      TERN_PROVIDER_LIMITS: JSON.stringify({
        'openai-compatible': { requestsPerMinute: RPM, requestBurst: BURST },
      }),
    },
  });

  it('never lets the provider receive more than the limit in any window', async () => {
    const { stack, collector } = handle;
    const turns = await Promise.all(
      Array.from({ length: SESSIONS }, () => startTurn(stack, collector)),
    );
    const turnIds = turns.map((t) => t.turnId);
    await collector.waitFor(
      (all) => turnIds.every((id) => finishedTurns(all).includes(id)),
      100_000,
    );
    expect(finishReasons(collector, turnIds)).toEqual(turnIds.map(() => 'stop'));

    const arrivals = (await simRequests(stack.simUrl)).map((r) => r.at);
    // One model call per turn: a call handed back to the queue was never sent.
    expect(arrivals.length).toBe(SESSIONS);
    const perSecond = RPM / 60;
    const figures = [1000, 5000, 10_000, 60_000].map((windowMs) => ({
      windowMs,
      most: busiestWindow(arrivals, windowMs),
      limit: BURST + (perSecond * windowMs) / 1000,
    }));
    const spanMs = Math.max(...arrivals) - Math.min(...arrivals);
    console.info(
      `provider limit ${RPM}/min, burst ${BURST}, ${SESSIONS} turns over ${spanMs} ms; ` +
        figures.map((f) => `max in ${f.windowMs} ms: ${f.most} (limit ${f.limit})`).join('; '),
    );
    for (const f of figures) expect(f.most, `window ${f.windowMs} ms`).toBeLessThanOrEqual(f.limit);

    // Most turns could not be served within the wait a worker may hold (2 s): they went back
    // to the queue instead of holding a slot, and still finished.
    const handedBack = stack.processes
      .filter((p) => p.name.startsWith('worker'))
      .map(
        (p) => readFileSync(p.logFile, 'utf8').split('waiting for provider capacity').length - 1,
      );
    const waits = (await workerMetrics(stack)).map((m) =>
      metricSum(m, 'tern_provider_rate_limit_wait_seconds_count'),
    );
    console.info(
      `hand-backs per worker: ${handedBack.join(', ')}; waits per worker: ${waits.join(', ')}`,
    );
    expect(handedBack.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});

describe('a 429 with retry-after seen by one worker', () => {
  const handle = useThreeWorkers();

  it('keeps every worker off the endpoint until the retry-after is over', async () => {
    const { stack, collector } = handle;
    // Steady traffic from six sessions, each answer taking ~150 ms, spread over the workers.
    let running = true;
    const background = Array.from({ length: 6 }, async () => {
      const created = await http('POST', `${stack.apiUrl}/v1/sessions`, { sim: { ttftMs: 150 } });
      const sessionId = created.body.session.id as string;
      await collector.subscribe(sessionId, '0-0');
      while (running) {
        const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${sessionId}/messages`, {
          text: 'hello there',
        });
        const turnId = posted.body.turnId as string;
        await collector.waitFor((all) => finishedTurns(all).includes(turnId), 30_000);
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    // Every attempt of this session is refused with 429 and `retry-after-ms: 1000`.
    const refused = await startTurn(stack, collector, { sim: { fault: 'rate_limit' } });
    await collector.waitFor((all) => finishedTurns(all).includes(refused.turnId), 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    running = false;
    await Promise.all(background);
    expect(finishReasons(collector, [refused.turnId])).toEqual(['error']);

    const requests = await simRequests(stack.simUrl);
    const refusals = requests.filter((r) => r.status === '429');
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    // When each cooldown was in place: the worker that read the 429 logs it once Redis has it.
    const started = stack.processes
      .filter((p) => p.name.startsWith('worker'))
      .flatMap((p) => readFileSync(p.logFile, 'utf8').split('\n'))
      .filter((line) => line.includes('provider endpoint cooling down'))
      .map((line) => (JSON.parse(line) as { time: number }).time)
      .sort((x, y) => x - y);
    expect(started.length).toBe(refusals.length);
    // The cooldown lasts 1000 ms from a moment between the 429 leaving the simulator and that
    // log line. Calls granted just before it may still be on the wire for `SETTLE_MS`; after
    // that, nothing may arrive until the cooldown is over.
    const SETTLE_MS = 150;
    const figures = refusals.map((r) => {
      const end = r.endedAt!;
      const from = (started.find((t) => t >= end) ?? end) + SETTLE_MS;
      return {
        during: requests.filter((q) => q.at > from && q.at < end + 1000).length,
        after: requests.filter((q) => q.at >= end + 1000 && q.at < end + 1500).length,
      };
    });
    const arrivals = requests.map((r) => r.at);
    const spanS = (Math.max(...arrivals) - Math.min(...arrivals)) / 1000;
    console.info(
      `${requests.length} requests in ${spanS.toFixed(1)} s (${(requests.length / spanS).toFixed(1)}/s); ` +
        `per 429: ${figures.map((f) => `${f.during} during the cooldown, ${f.after} in the 500 ms after`).join('; ')}`,
    );
    for (const f of figures) expect(f.during).toBe(0);
    // The traffic was held back, not absent: it resumed as soon as the cooldown ended.
    expect(figures.every((f) => f.after > 0)).toBe(true);

    // Each worker had calls waiting for the cooldown; the one that read a 429 reported it.
    const metrics = await workerMetrics(stack);
    const waits = metrics.map((m) => metricSum(m, 'tern_provider_rate_limit_wait_seconds_count'));
    const cooldowns = metrics.map((m) => metricSum(m, 'tern_provider_cooldowns_total'));
    console.info(
      `waits per worker: ${waits.join(', ')}; cooldowns started: ${cooldowns.join(', ')}`,
    );
    expect(waits.every((n) => n > 0)).toBe(true);
    expect(cooldowns.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  });
});

describe('an OpenAI-compatible endpoint with two replicas', () => {
  const TURNS = 30;
  let replicas: SimProcess[] = [];
  let stack: Stack;
  let collector: Collector;

  beforeAll(async () => {
    replicas = await Promise.all([startSimProcess(), startSimProcess()]);
    stack = await startStack({
      workers: 1,
      env: { OPENAI_COMPATIBLE_BASE_URL: replicas.map((r) => `${r.url}/v1`).join(',') },
    });
    await stack.addWorker();
    collector = await connectCollector(stack.gatewayUrl);
  });
  afterAll(async () => {
    collector?.close();
    await stack?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it('spreads the calls over both about evenly', async () => {
    const turns = await Promise.all(
      Array.from({ length: TURNS }, () => startTurn(stack, collector)),
    );
    const turnIds = turns.map((t) => t.turnId);
    await collector.waitFor(
      (all) => turnIds.every((id) => finishedTurns(all).includes(id)),
      60_000,
    );
    expect(finishReasons(collector, turnIds)).toEqual(turnIds.map(() => 'stop'));
    const counts = await Promise.all(replicas.map(async (r) => (await simRequests(r.url)).length));
    const own = (await simRequests(stack.simUrl)).length;
    console.info(
      `${TURNS} turns over two replicas: ${counts.join(' + ')} (the default simulator: ${own})`,
    );
    expect(counts[0]! + counts[1]!).toBe(TURNS);
    expect(own).toBe(0);
    for (const n of counts) expect(n / TURNS).toBeGreaterThanOrEqual(0.35);
  });
});

describe('a turn waiting in the queue for provider capacity', () => {
  let stack: Stack;
  let collector: Collector;
  beforeAll(async () => {
    // One request a minute: the second turn's call waits about a minute, in the queue.
    stack = await startStack({
      env: {
        TERN_PROVIDER_LIMITS: JSON.stringify({
          'openai-compatible': { requestsPerMinute: 1, requestBurst: 1 },
        }),
      },
    });
    collector = await connectCollector(stack.gatewayUrl);
  });
  afterAll(async () => {
    collector?.close();
    await stack?.stop();
  });

  it('is cancelled at once, not when the capacity comes back', async () => {
    const first = await startTurn(stack, collector);
    await collector.waitFor((all) => finishedTurns(all).includes(first.turnId), 30_000);
    const waiting = await startTurn(stack, collector);
    const worker = stack.processes.find((p) => p.name.startsWith('worker'))!;
    // Handed back to the queue (its job delayed for most of a minute), not holding a slot.
    const deadline = Date.now() + 20_000;
    while (!readFileSync(worker.logFile, 'utf8').includes('waiting for provider capacity')) {
      if (Date.now() > deadline) throw new Error('the second turn never waited for capacity');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cancelled = await http('POST', `${stack.apiUrl}/v1/sessions/${waiting.sessionId}/cancel`);
    expect(cancelled.status).toBe(202);
    // Well before the minute is over: the cancel woke the delayed job.
    await collector.waitFor((all) => finishedTurns(all).includes(waiting.turnId), 20_000);
    expect(finishReasons(collector, [waiting.turnId])).toEqual(['aborted']);
    // The provider saw only the first turn's call.
    expect((await simRequests(stack.simUrl)).length).toBe(1);
  });
});
