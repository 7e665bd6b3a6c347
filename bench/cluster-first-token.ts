import { connectCollector } from '../test/helpers/event-collector.ts';
import { http } from '../test/helpers/http.ts';
import type { Stack } from '../test/helpers/stack.ts';
import { ms, summarize, table } from './stats.ts';

/** Sessions per user stay under the default per-user running-turn limit (64). */
const SESSIONS_PER_USER = 50;
const turnsFor = (sessions: number) => (sessions === 1 ? 100 : sessions <= 50 ? 6 : 3);

/**
 * Figure 2: POST /messages → first text_delta at a socket.io client, with this many sessions each
 * sending its next message as soon as its previous turn finished.
 */
export async function firstToken(stack: Stack, levels: number[]): Promise<string> {
  const tokens = new Map<number, Promise<string>>();
  const tokenFor = (i: number) => {
    const u = Math.floor(i / SESSIONS_PER_USER);
    if (!tokens.has(u)) tokens.set(u, stack.addUser(`first-token-${u}`));
    return tokens.get(u)!;
  };
  const rows: string[][] = [];
  await measure(stack, 4, 3, tokenFor); // warm-up
  for (const sessions of levels) {
    const s = summarize(await measure(stack, sessions, turnsFor(sessions), tokenFor));
    rows.push([String(sessions), String(s.n), ms(s.median), ms(s.p99)]);
  }
  return [
    table(['sessions', 'turns', 'first token median', 'p99'], rows),
    'Target at 200 sessions: median ≤ 10 ms, p99 ≤ 50 ms. Clock: performance.now() in the client, from sending the POST to the first text_delta on its socket.io connection; every session has its own connection, 50 sessions per user.',
  ].join('\n');
}

async function measure(
  stack: Stack,
  sessions: number,
  turns: number,
  tokenFor: (i: number) => Promise<string>,
): Promise<number[]> {
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: sessions }, async (_, i) => {
      const token = await tokenFor(i);
      const auth = { authorization: `Bearer ${token}` };
      const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {}, auth);
      const id = created.body.session.id as string;
      const collector = await connectCollector(stack.gatewayUrl, token);
      await collector.subscribe(id, '0-0');
      try {
        for (let t = 1; t <= turns; t++) {
          const before = collector.envelopes.length;
          const start = performance.now();
          let first = 0;
          const turnId = `${id}-t${t}`;
          const posted = http(
            'POST',
            `${stack.apiUrl}/v1/sessions/${id}/messages`,
            { text: `hello number ${t}` },
            auth,
          );
          await collector.waitFor((all) => {
            for (let k = before; k < all.length; k++) {
              const e = all[k]!.event;
              if (e.type === 'text_delta' && first === 0) first = performance.now() - start;
              if (e.type === 'turn_finished' && e.turnId === turnId) return true;
            }
            return false;
          }, 60_000);
          if ((await posted).status !== 202) throw new Error('message refused');
          samples.push(first);
        }
      } finally {
        collector.close();
      }
    }),
  );
  return samples;
}
