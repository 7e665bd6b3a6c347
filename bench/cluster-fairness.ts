import { http } from '../test/helpers/http.ts';
import type { Stack } from '../test/helpers/stack.ts';
import { watchTurns } from './cluster-turn-watcher.ts';
import { ms, summarize, table } from './stats.ts';

const FLOOD = 500;
const INTERACTIVE = 50;
const FLOOD_TTFT_MS = 3000;

/**
 * Figure 5: another user's interactive turns start while one user has FLOOD batch turns queued
 * (each waiting FLOOD_TTFT_MS for its first token, so the flood outlasts the measurement), beside
 * the same interactive turns on the idle stack.
 */
export async function startUnderFlood(stack: Stack): Promise<string> {
  const idle = await interactiveStarts(stack, 'calm');
  const floodToken = await stack.addUser('flooder');
  const flooder = await watchTurns(stack.gatewayUrl, floodToken);
  const auth = { authorization: `Bearer ${floodToken}` };
  const lanes = 20;
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < FLOOD; i += lanes) {
        const created = await http(
          'POST',
          `${stack.apiUrl}/v1/sessions`,
          { sim: { ttftMs: FLOOD_TTFT_MS } },
          auth,
        );
        ids[i] = created.body.session.id as string;
        await flooder.subscribe(ids[i]!);
      }
    }),
  );
  const posted = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < FLOOD; i += lanes) {
        const sent = await http(
          'POST',
          `${stack.apiUrl}/v1/sessions/${ids[i]}/messages`,
          { text: 'batch work', priority: 'batch' },
          auth,
        );
        if (sent.status !== 202) throw new Error(`batch message refused: ${sent.status}`);
      }
    }),
  );
  const floodPostSeconds = (performance.now() - posted) / 1000;
  const startedBefore = flooder.started;
  const loaded = await interactiveStarts(stack, 'busy');
  const startedAfter = flooder.started;
  flooder.close();
  const row = (name: string, s: number[]) => {
    const sum = summarize(s);
    return [name, String(sum.n), ms(sum.median), ms(sum.p99)];
  };
  return [
    table(
      ['interactive turn: POST → turn_started', 'n', 'median', 'p99'],
      [row('idle stack (floor)', idle), row(`under ${FLOOD} queued batch turns`, loaded)],
    ),
    `Target: p99 ≤ 100 ms under the flood. One user posted ${FLOOD} batch turns (${FLOOD} sessions, ${FLOOD_TTFT_MS} ms to first token each) in ${floodPostSeconds.toFixed(1)} s; ${FLOOD - startedBefore} of them had not started when the interactive turns began and ${FLOOD - startedAfter} when they ended. Another user then sent ${INTERACTIVE} interactive turns one after another over 10 sessions. Start = the turn_started event's stream id (Redis clock, ms) minus Date.now() when the POST was sent. Per-user running-turn limit: the default (64).`,
  ].join('\n');
}

async function interactiveStarts(stack: Stack, name: string): Promise<number[]> {
  const token = await stack.addUser(`interactive-${name}`);
  const watcher = await watchTurns(stack.gatewayUrl, token);
  const auth = { authorization: `Bearer ${token}` };
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {}, auth);
    ids.push(created.body.session.id as string);
    await watcher.subscribe(ids[i]!);
  }
  const starts: number[] = [];
  try {
    for (let t = 0; t < INTERACTIVE; t++) {
      const id = ids[t % ids.length]!;
      const sentAt = Date.now();
      const sent = await http(
        'POST',
        `${stack.apiUrl}/v1/sessions/${id}/messages`,
        { text: 'quick question' },
        auth,
      );
      const turnId = sent.body.turnId as string;
      starts.push((await watcher.wait('turn_started', turnId)) - sentAt);
      await watcher.wait('turn_finished', turnId);
    }
  } finally {
    watcher.close();
  }
  return starts;
}
