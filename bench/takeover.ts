import { connectCollector, finishedTurns } from '../test/helpers/event-collector.ts';
import { http } from '../test/helpers/http.ts';
import { startStack } from '../test/helpers/stack.ts';
import { ms, summarize, table } from './stats.ts';

const TRIALS = 7;

/**
 * Takeover after `kill -9`: a worker streaming a turn is killed at a random instant, and the
 * clock runs until the worker that takes the turn over announces it (its `stream_discarded`), then
 * until the turn is done. Beside it, in the same run, the floor: an idle worker starting a fresh
 * turn. Default settings (LEASE_TTL_MS 3000): the lease and the job's queue lock both lapse, one
 * stall check notices, and the other worker reloads the log.
 */
export async function runTakeover(): Promise<void> {
  const stack = await startStack({ workers: 2 });
  const collector = await connectCollector(stack.gatewayUrl);
  const takeover: number[] = [];
  const done: number[] = [];
  const fresh: number[] = [];
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const created = await http('POST', `${stack.apiUrl}/v1/sessions`, { sim: { itlMs: 20 } });
      const id = created.body.session.id as string;
      await collector.subscribe(id, '0-0');
      const posted = performance.now();
      const sent = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, {
        text: 'Give me a long answer please',
      });
      const turnId = sent.body.turnId as string;
      const seen = (type: string) => (all: typeof collector.envelopes) =>
        all.some((e) => e.sessionId === id && e.event.type === type);
      await collector.waitFor(seen('turn_started'));
      fresh.push(performance.now() - posted);
      await collector.waitFor(seen('text_delta'));
      // Anywhere within the lease's renewal period, so that the samples cover its phases.
      await new Promise((r) => setTimeout(r, Math.random() * 1_000));
      const holder = await stack.redis.client.get(`tern:{${id}}:lease`);
      const victim = stack.processes.find(
        (p) => p.child.exitCode === null && holder?.includes(`-${p.child.pid}-`),
      );
      if (!victim) throw new Error(`no live worker holds ${holder}`);
      const killed = performance.now();
      victim.child.kill('SIGKILL');
      await collector.waitFor(seen('stream_discarded'), 60_000);
      takeover.push(performance.now() - killed);
      await collector.waitFor((all) => finishedTurns(all).includes(turnId), 60_000);
      done.push(performance.now() - killed);
      await stack.addWorker();
    }
  } finally {
    collector.close();
    await stack.stop();
  }
  const row = (label: string, samples: number[]) => {
    const s = summarize(samples);
    return [label, ms(Math.min(...samples)), ms(s.median), ms(Math.max(...samples))];
  };
  console.log(`\nTakeover after kill -9 (2 worker processes, ${TRIALS} kills, LEASE_TTL_MS 3000):`);
  console.log(
    table(
      ['from', 'min', 'p50', 'max'],
      [
        row('kill → other worker resumes the turn', takeover),
        row('kill → turn done (≈ 6 s of streaming left)', done),
        row('floor: POST → idle worker starts a turn', fresh),
      ],
    ),
  );
}
