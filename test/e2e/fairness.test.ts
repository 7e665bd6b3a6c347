import type { EventEnvelope } from '@tern/shared/protocol/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/**
 * One worker with 4 slots; each user may run 2 turns at once. A floods it with batch turns; B and
 * C arrive later. Every turn takes about half a second of simulated model time.
 */
const FLOOD = 24;
let stack: Stack;
const users: Record<string, { token: string; collector: Collector }> = {};

beforeAll(async () => {
  stack = await startStack({
    workers: 1,
    env: { WORKER_CONCURRENCY: '4', USER_MAX_RUNNING_TURNS: '2' },
  });
  for (const name of ['alice', 'bob', 'carol']) {
    const token = await stack.addUser(name);
    users[name] = { token, collector: await connectCollector(stack.gatewayUrl, token) };
  }
});
afterAll(async () => {
  for (const u of Object.values(users)) u.collector.close();
  await stack?.stop();
});

async function startTurn(user: string, priority: 'interactive' | 'batch') {
  const { token, collector } = users[user]!;
  const auth = { authorization: `Bearer ${token}` };
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, { sim: { ttftMs: 500 } }, auth);
  expect(created.status).toBe(201);
  const id = created.body.session.id as string;
  await collector.subscribe(id, '0-0');
  const posted = await http(
    'POST',
    `${stack.apiUrl}/v1/sessions/${id}/messages`,
    { text: 'hello', priority },
    auth,
  );
  expect(posted.status).toBe(202);
  return { user, turnId: posted.body.turnId as string, postedAt: performance.now() };
}

/** When an event was published, from its Redis stream id (`<ms>-<seq>`): one clock for all. */
function publishedAt(all: EventEnvelope[], type: 'turn_started' | 'turn_finished', turnId: string) {
  const found = all.find(
    (e) => e.event.type === type && (e.event as { turnId: string }).turnId === turnId,
  );
  if (!found) throw new Error(`no ${type} for ${turnId}`);
  return Number(found.id.split('-')[0]);
}

/** Most of these turns running at once, from their start and finish times. */
function peakRunning(all: EventEnvelope[], turnIds: string[]): number {
  const edges = turnIds.flatMap((t) => [
    { at: publishedAt(all, 'turn_started', t), step: 1 },
    { at: publishedAt(all, 'turn_finished', t), step: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let running = 0;
  let peak = 0;
  for (const edge of edges) {
    running += edge.step;
    peak = Math.max(peak, running);
  }
  return peak;
}

describe('fairness between users on one queue', () => {
  it("serves another user's interactive turn at once, and round-robins batch users", async () => {
    const flood = [];
    for (let i = 0; i < FLOOD; i++) flood.push(await startTurn('alice', 'batch'));
    const bobPosted = Date.now();
    const bob = await startTurn('bob', 'interactive');
    const carol = [];
    for (let i = 0; i < 3; i++) carol.push(await startTurn('carol', 'batch'));
    const events = (user: string) => users[user]!.collector;
    for (const t of [bob, ...flood, ...carol]) {
      await events(t.user).waitFor((e) => finishedTurns(e).includes(t.turnId), 120_000);
    }
    const start = (t: { user: string; turnId: string }) =>
      publishedAt(events(t.user).envelopes, 'turn_started', t.turnId);

    // Bob did not wait for Alice's flood: most of it started after him.
    const bobStart = start(bob);
    const aliceBefore = flood.filter((t) => start(t) < bobStart).length;
    expect(aliceBefore).toBeLessThan(FLOOD / 2);
    // Carol queued after all of Alice's turns, yet all of hers started before Alice's last ones.
    const aliceStarts = flood.map(start).sort((a, b) => a - b);
    expect(Math.max(...carol.map(start))).toBeLessThan(aliceStarts[FLOOD - 5]!);
    // Each user stayed within the limit of 2 running turns, across the worker's 4 slots.
    const alicePeak = peakRunning(
      events('alice').envelopes,
      flood.map((t) => t.turnId),
    );
    expect(alicePeak).toBeLessThanOrEqual(2);
    expect(
      peakRunning(
        events('carol').envelopes,
        carol.map((t) => t.turnId),
      ),
    ).toBeLessThanOrEqual(2);
    console.info(
      `fairness: bob's interactive turn started ${bobStart - bobPosted} ms after its POST, with ${FLOOD - aliceBefore} of alice's ${FLOOD} batch turns still queued; alice peaked at ${alicePeak} running`,
    );
  }, 180_000);
});
