import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { contradictions } from '../helpers/log-consistency.ts';
import { followUpAndLog, leaseHolder, startLongTurn } from '../helpers/long-turn.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { type Stack, startStack, waitForLog } from '../helpers/stack.ts';

describe.each(['folder', 's3'] as const)(
  'a worker paused past its lease (%s store)',
  (storeKind) => {
    let s3: TestS3 | undefined;
    let stack: Stack;
    let collector: Collector;

    beforeAll(async () => {
      if (storeKind === 's3') s3 = await startS3();
      stack = await startStack({ workers: 2, env: s3?.env('zombie') ?? {} });
      collector = await connectCollector(stack.gatewayUrl);
    });
    afterAll(async () => {
      for (const p of stack?.processes ?? []) p.child.kill('SIGCONT');
      collector?.close();
      await stack?.stop();
      await s3?.stop();
    });

    it('has its commits and events rejected when it wakes; nothing appears twice', async () => {
      const { id, turnId } = await startLongTurn(stack, collector);
      const zombie = await leaseHolder(stack, id);
      // The lease names its holder and epoch: `<host>-<pid>-<random>:<epoch>`.
      const zombieEpoch = Number(
        (await stack.redis.client.get(`tern:{${id}}:lease`))?.split(':').at(-1),
      );
      zombie.child.kill('SIGSTOP');
      try {
        // The other worker takes the turn over and tells watchers to drop the half answer.
        await collector.waitFor(
          (all) => all.some((e) => e.sessionId === id && e.event.type === 'stream_discarded'),
          30_000,
        );
      } finally {
        // Woken while the new runner streams: the zombie's stream and commits overlap it.
        zombie.child.kill('SIGCONT');
      }
      await waitForLog(zombie, 'lease lost', 20_000, stack.logs);
      await collector.waitFor((all) => finishedTurns(all).includes(turnId), 60_000);

      // Another message is served normally afterwards, by whichever worker takes it.
      const log = await followUpAndLog(stack, collector, id);
      expect(log.map((e) => e.kind)).toEqual([
        'user_message',
        'assistant_message',
        'user_message',
        'assistant_message',
      ]);
      expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      // The answer was committed by the worker that took over, under a newer epoch (the user's
      // message too, when the zombie was stopped before its early commit of it landed).
      expect(log[1]?.epoch).toBeGreaterThan(zombieEpoch);
      const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
      expect(detail.body.session).toMatchObject({ status: 'idle', inputs: 2 });
      expect(contradictions(id, collector.envelopes, log)).toEqual([]);
      expect(finishedTurns(collector.envelopes).filter((t) => t === turnId)).toHaveLength(1);
      expect(zombie.child.exitCode).toBeNull();
    }, 120_000);
  },
);
