import type { EventEnvelope } from '@tern/shared/protocol/events';
import { redisKeys } from '@tern/shared/session/session-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { contradictions } from '../helpers/log-consistency.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/**
 * Tern as a small cluster: 2 API processes, 2 gateways and 3 workers on one Redis. Three users
 * each keep ten sessions busy, sending their messages round-robin to both APIs; one worker gets
 * SIGTERM while turns run. Nothing may be lost, duplicated or reordered.
 */
const USERS = ['ana', 'ben', 'cy'];
const SESSIONS_PER_USER = 10;
const MESSAGES_PER_SESSION = 4;

type Session = { id: string; user: string; turnIds: string[] };
let stack: Stack;
const users: Record<string, { auth: Record<string, string>; collector: Collector }> = {};

beforeAll(async () => {
  stack = await startStack({ apis: 2, gateways: 2, workers: 3 });
  for (const [i, name] of USERS.entries()) {
    const token = await stack.addUser(name);
    users[name] = {
      auth: { authorization: `Bearer ${token}` },
      // Users spread over both gateways.
      collector: await connectCollector(stack.gatewayUrls[i % stack.gatewayUrls.length]!, token),
    };
  }
}, 60_000);
afterAll(async () => {
  for (const u of Object.values(users)) u.collector.close();
  await stack?.stop();
});

const mine = (all: EventEnvelope[], sessionId: string) =>
  all.filter((e) => e.sessionId === sessionId);

describe('a cluster of 2 APIs, 2 gateways and 3 workers', () => {
  it('finishes every turn once and in order, and loses nothing when a worker is stopped mid-load', async () => {
    const sessions: Session[] = [];
    let n = 0;
    for (const user of USERS) {
      for (let i = 0; i < SESSIONS_PER_USER; i++) {
        const api = stack.apiUrls[n++ % stack.apiUrls.length]!;
        // Turns long enough (about 150 ms each) that the stopped worker is mid-turn.
        const created = await http(
          'POST',
          `${api}/v1/sessions`,
          { sim: { ttftMs: 150 } },
          users[user]!.auth,
        );
        expect(created.status).toBe(201);
        const id = created.body.session.id as string;
        const ack = await users[user]!.collector.subscribe(id, '0-0');
        expect(ack).toMatchObject({ ok: true });
        sessions.push({ id, user, turnIds: [] });
      }
    }

    const started = performance.now();
    // Every message of a session goes to the other API than the one before it.
    await Promise.all(
      sessions.map(async (s, i) => {
        for (let m = 1; m <= MESSAGES_PER_SESSION; m++) {
          const api = stack.apiUrls[(i + m) % stack.apiUrls.length]!;
          const posted = await http(
            'POST',
            `${api}/v1/sessions/${s.id}/messages`,
            { text: `message ${m} of ${s.id}` },
            users[s.user]!.auth,
          );
          expect(posted.status).toBe(202);
          s.turnIds.push(posted.body.turnId as string);
        }
      }),
    );
    const total = sessions.length * MESSAGES_PER_SESSION;
    const finishedSoFar = () =>
      USERS.reduce((sum, u) => sum + finishedTurns(users[u]!.collector.envelopes).length, 0);

    // Mid-load: the worker holding a running session's lease is told to stop.
    await users[USERS[0]!]!.collector.waitFor(() => finishedSoFar() >= total / 4, 60_000);
    let victim: Stack['processes'][number] | undefined;
    for (const s of sessions) {
      const holder = await stack.redis.client.get(redisKeys.lease(s.id));
      victim = stack.processes.find(
        (p) => p.name.startsWith('worker') && holder?.includes(`-${p.child.pid}-`),
      );
      if (victim) break;
    }
    expect(victim, 'a worker holds a lease mid-load').toBeDefined();
    const finishedAtStop = finishedSoFar();
    const exited = new Promise<number | null>((r) => victim!.child.once('exit', (code) => r(code)));
    victim!.child.kill('SIGTERM');
    expect(await exited, stack.logs(victim!.name)).toBe(0);

    for (const s of sessions) {
      await users[s.user]!.collector.waitFor(
        (all) => s.turnIds.every((t) => finishedTurns(mine(all, s.id)).includes(t)),
        90_000,
      );
    }
    const seconds = (performance.now() - started) / 1000;

    for (const s of sessions) {
      const seen = mine(users[s.user]!.collector.envelopes, s.id);
      // Each turn finished exactly once, in the order its message was sent.
      expect(finishedTurns(seen)).toEqual(s.turnIds);
      expect(s.turnIds).toEqual(
        Array.from({ length: MESSAGES_PER_SESSION }, (_, m) => `${s.id}-t${m + 1}`),
      );

      // The log holds each message and its answer, in order, with nothing left pending.
      const detail = await http(
        'GET',
        `${stack.apiUrls[1]}/v1/sessions/${s.id}`,
        undefined,
        users[s.user]!.auth,
      );
      expect(detail.status).toBe(200);
      const entries = detail.body.entries as { kind: string; text?: string; turnId: string }[];
      expect(entries.filter((e) => e.kind === 'user_message').map((e) => e.text)).toEqual(
        Array.from({ length: MESSAGES_PER_SESSION }, (_, m) => `message ${m + 1} of ${s.id}`),
      );
      expect(entries.filter((e) => e.kind === 'assistant_message').map((e) => e.turnId)).toEqual(
        s.turnIds,
      );
      expect(entries.some((e) => e.kind === 'error' || e.kind === 'interrupted')).toBe(false);
      expect(detail.body.session).toMatchObject({ status: 'idle', inputs: MESSAGES_PER_SESSION });
      expect(contradictions(s.id, seen, detail.body.entries)).toEqual([]);

      // The client saw the session's stream exactly: every event, once, in order.
      const stream = await stack.redis.client.xrange(redisKeys.events(s.id), '-', '+');
      expect(seen.map((e) => e.id)).toEqual(stream.map(([id]) => id));
    }

    console.info(
      `cluster: ${total} turns over ${sessions.length} sessions of ${USERS.length} users in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(1)} turns/s) on 2 APIs, 3 workers (one stopped with SIGTERM after ${finishedAtStop} turns had finished), 2 gateways`,
    );
  }, 180_000);
});
