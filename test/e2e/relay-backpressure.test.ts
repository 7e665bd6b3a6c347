import { readFileSync } from 'node:fs';
import type { Socket as NetSocket } from 'node:net';
import type { EventEnvelope } from '@tern/shared/protocol/events';
import { redisKeys } from '@tern/shared/session/session-keys';
import { describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { useStack } from '../helpers/use-stack.ts';

const MAX_PACKETS = 1000;
// Above the turn's final `entry` event (the whole 8 MB answer in one message), which would
// otherwise briefly count even a fast client as backed up; the slow one trips MAX_PACKETS.
const MAX_BYTES = 16_777_216;
const PAGE = 200;
const env = useStack({
  gateways: 2,
  env: {
    GATEWAY_CLIENT_MAX_PACKETS: String(MAX_PACKETS),
    GATEWAY_CLIENT_MAX_BYTES: String(MAX_BYTES),
    GATEWAY_CATCH_UP_PAGE: String(PAGE),
    // Every event of these turns stays retained, so a paused client never needs a reload.
    EVENT_STREAM_MAXLEN: '200000',
  },
});

/** A scenario answering with `words` long word chunks: one `text_delta` event each. */
async function installLongAnswer(name: string, words: number): Promise<void> {
  const filler = 'x'.repeat(1000);
  const text = Array.from({ length: words }, (_, i) => `w${i}-${filler}`).join(' ');
  const put = await http('PUT', `${env.stack.simUrl}/sim/scenarios/${name}`, {
    steps: [{ text, finish: 'stop' }],
  });
  expect(put.status).toBe(200);
}

async function newSession(sim: Record<string, unknown>): Promise<string> {
  const created = await http('POST', `${env.stack.apiUrl}/v1/sessions`, { sim });
  expect(created.status).toBe(201);
  return created.body.session.id as string;
}

async function startTurn(sessionId: string): Promise<string> {
  const posted = await http('POST', `${env.stack.apiUrl}/v1/sessions/${sessionId}/messages`, {
    text: 'Stream a lot, please',
  });
  expect(posted.status).toBe(202);
  return posted.body.turnId as string;
}

/** The ids the session's stream holds after `after`, read straight from Redis. */
async function streamIdsAfter(sessionId: string, after: string): Promise<string[]> {
  const entries = await env.stack.redis.client.xrange(
    redisKeys.events(sessionId),
    `(${after}`,
    '+',
  );
  return entries.map(([id]) => id);
}

const idsOf = (envelopes: EventEnvelope[], sessionId: string) =>
  envelopes.filter((e) => e.sessionId === sessionId).map((e) => e.id);

/** The client's own end of its WebSocket, to stop reading as a stalled network would. */
function rawSocketOf(collector: Collector): NetSocket {
  const engine = collector.socket.io.engine as unknown as {
    transport: { ws?: { _socket?: NetSocket } };
  };
  const raw = engine.transport.ws?._socket;
  if (!raw) throw new Error('the collector is not on a WebSocket transport');
  return raw;
}

function gatewayLogLines(name: string, message: string): Record<string, unknown>[] {
  const proc = env.stack.processes.find((p) => p.name === name);
  if (!proc) throw new Error(`no process ${name}`);
  return readFileSync(proc.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes(`"${message}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function until(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('backpressure in the stream relay', () => {
  it('pauses a client that stops reading, keeps a fast one live, and catches the slow one up exactly', async () => {
    // About 8 MB of deltas: more than the kernel's socket buffers take for a client that stalls.
    const words = 8000;
    await installLongAnswer('flood', words);
    const sessionId = await newSession({ scenario: 'flood', itlMs: 0 });
    const fast = env.collector;
    const slow = await connectCollector(env.stack.gatewayUrl);
    try {
      const fastAck = await fast.subscribe(sessionId);
      const slowAck = await slow.subscribe(sessionId);
      expect(fastAck.ok && slowAck.ok).toBe(true);
      const from = slowAck.ok ? slowAck.lastEventId : '';
      const raw = rawSocketOf(slow);
      raw.pause();

      const turnId = await startTurn(sessionId);
      await fast.waitFor((all) => finishedTurns(all).includes(turnId), 150_000);
      // The fast client had every event live while the slow one was stalled.
      expect(finishedTurns(slow.envelopes)).not.toContain(turnId);
      const expected = await streamIdsAfter(sessionId, from);
      expect(expected.length).toBeGreaterThan(words);
      expect(idsOf(fast.envelopes, sessionId)).toEqual(expected);

      // The gateway took the slow socket out of the room instead of queueing the turn for it.
      const pauses = gatewayLogLines('gateway', 'paused a slow client');
      expect(pauses.filter((l) => l.socketId === fast.socket.id)).toEqual([]);
      const slowPauses = pauses.filter((l) => l.socketId === slow.socket.id);
      expect(slowPauses).toHaveLength(1);
      const pause = slowPauses[0]!;
      expect(pause.sessionId).toBe(sessionId);
      // Paused once past a limit, with at most one relay batch (1000 events) beyond it queued...
      expect((pause.packets as number) > MAX_PACKETS || (pause.bytes as number) > MAX_BYTES).toBe(
        true,
      );
      expect(pause.packets as number).toBeLessThanOrEqual(MAX_PACKETS + 1000);
      // ...and well before the end of the turn: the rest was never queued for it.
      expect(expected.indexOf(pause.lastEventId as string)).toBeGreaterThanOrEqual(0);
      expect(expected.indexOf(pause.lastEventId as string)).toBeLessThan(expected.length - 1000);

      raw.resume();
      await slow.waitFor((all) => finishedTurns(all).includes(turnId), 150_000);
      const got = idsOf(slow.envelopes, sessionId);
      expect(got).toEqual(expected);
      // The gateway's log line follows the join, so it may reach the file after the events.
      await until(
        async () =>
          gatewayLogLines('gateway', 'resumed a slow client').some(
            (l) => l.socketId === slow.socket.id && l.from === pause.lastEventId,
          ),
        'the gateway to log the resume',
      );
      const metrics = await (await fetch(`${env.stack.gatewayUrl}/metrics`)).text();
      expect(metrics).toMatch(/tern_gateway_slow_clients_total\{action="paused"\} [1-9]/);
      expect(metrics).toMatch(/tern_gateway_slow_clients_total\{action="resumed"\} [1-9]/);

      // Rejoined the live room: the next turn reaches it live, once and in order.
      const next = await startTurn(sessionId);
      await slow.waitFor((all) => finishedTurns(all).includes(next), 150_000);
      expect(idsOf(slow.envelopes, sessionId)).toEqual(await streamIdsAfter(sessionId, from));
    } finally {
      slow.close();
    }
  }, 400_000);

  it('tells a paused client to reload when its cursor was trimmed before it drained', async () => {
    await installLongAnswer('flood', 8000);
    const sessionId = await newSession({ scenario: 'flood', itlMs: 0 });
    const watcher = env.collector;
    const slow = await connectCollector(env.stack.gatewayUrl);
    const reloads: { sessionId: string; at: number }[] = [];
    slow.socket.on('reload', (info) =>
      reloads.push({ sessionId: info.sessionId, at: slow.envelopes.length }),
    );
    try {
      await watcher.subscribe(sessionId);
      const ack = await slow.subscribe(sessionId);
      const from = ack.ok ? ack.lastEventId : '';
      const raw = rawSocketOf(slow);
      raw.pause();
      const turnId = await startTurn(sessionId);
      await watcher.waitFor((all) => finishedTurns(all).includes(turnId), 150_000);
      const pause = gatewayLogLines('gateway', 'paused a slow client').find(
        (l) => l.socketId === slow.socket.id,
      );
      expect(pause?.sessionId).toBe(sessionId);
      const streamed = await streamIdsAfter(sessionId, from);
      // Retention runs out while the client is stalled: every event of the turn is trimmed.
      await env.stack.redis.client.xtrim(redisKeys.events(sessionId), 'MAXLEN', 0);

      raw.resume();
      await until(async () => reloads.length > 0, 'a reload', 150_000);
      expect(reloads[0]?.sessionId).toBe(sessionId);
      // Before the reload: a gap-free prefix of what was streamed, up to where it was paused.
      const before = idsOf(slow.envelopes, sessionId).slice(0, reloads[0]?.at);
      expect(before).toEqual(streamed.slice(0, before.length));
      expect(before.at(-1)).toBe(pause?.lastEventId);

      // Then it is live again from the stream's end, once and in order.
      const next = await startTurn(sessionId);
      await slow.waitFor((all) => finishedTurns(all).includes(next), 150_000);
      const after = idsOf(slow.envelopes, sessionId).slice(before.length);
      expect(after).toEqual(await streamIdsAfter(sessionId, streamed.at(-1)!));
      expect(after.length).toBeGreaterThan(0);
    } finally {
      slow.close();
    }
  }, 400_000);

  it('a client that moves to another gateway with its last event id gets exactly what it missed', async () => {
    const [first, second] = env.stack.gatewayUrls as [string, string];
    await installLongAnswer('moving', 1500);
    const sessionId = await newSession({ scenario: 'moving', itlMs: 2 });
    const before = await connectCollector(first);
    const ack = await before.subscribe(sessionId);
    expect(ack.ok).toBe(true);
    const from = ack.ok ? ack.lastEventId : '';
    const turnId = await startTurn(sessionId);
    // Leave mid-turn, then come back on the other gateway more than a catch-up page behind.
    await before.waitFor((all) => all.length >= 50);
    before.close();
    const held = idsOf(before.envelopes, sessionId);
    const last = held.at(-1)!;
    await until(
      async () => (await streamIdsAfter(sessionId, last)).length > 2 * PAGE,
      'the turn to stream two pages past the client',
    );
    const after = await connectCollector(second);
    try {
      const resumed = await after.subscribe(sessionId, last);
      expect(resumed.ok).toBe(true);
      await after.waitFor((all) => finishedTurns(all).includes(turnId), 150_000);
      const got = idsOf(after.envelopes, sessionId);
      const all = await streamIdsAfter(sessionId, from);
      expect(got).toEqual(await streamIdsAfter(sessionId, last));
      expect([...held, ...got]).toEqual(all);
      expect(got.length).toBeGreaterThan(PAGE);
    } finally {
      after.close();
    }
  }, 120_000);
});
