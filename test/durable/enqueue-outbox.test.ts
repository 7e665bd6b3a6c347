import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTBOX_KEY, openTicket, sweepOutbox } from '@tern/shared/queue/enqueue-outbox';
import { turnJobId } from '@tern/shared/queue/turn-queue';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import { openTurnQueue } from '@tern/shared/session/requeue-turn';
import { SessionStore, turnIdFor } from '@tern/shared/session/session-store';
import { describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { useStack } from '../helpers/use-stack.ts';

const env = useStack({ workers: 1, env: { ENQUEUE_OUTBOX_GRACE_MS: '500' } });

/** A store on the stack's Redis for what an API process does; its blobs are not read here. */
const storeOf = () =>
  new SessionStore(
    env.stack.redis.client,
    new FileBlobStore(mkdtempSync(join(tmpdir(), 'tern-outbox-'))),
  );

describe('a message accepted by an API process that died before queueing its turn', () => {
  it('is answered anyway: a worker queues the turn from the outbox', async () => {
    const { stack, collector } = env;
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {});
    const id = created.body.session.id as string;
    await collector.subscribe(id, '0-0');
    // What the messages route does before it dies: ticket, append, and no job.
    const store = storeOf();
    openTicket(stack.redis.client, id);
    const appended = await store.appendInput(id, 'hello from a dying API', undefined);
    expect(appended?.inputSeq).toBe(1);

    await collector.waitFor((all) => finishedTurns(all).includes(turnIdFor(id, 1)), 30_000);
    const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    expect(detail.body.entries.map((e: { kind: string }) => e.kind)).toEqual([
      'user_message',
      'assistant_message',
    ]);
    expect(await stack.redis.client.zcard(OUTBOX_KEY)).toBe(0);
  }, 60_000);
});

describe('the outbox sweep', () => {
  it('leaves young tickets alone and drops tickets of sessions with nothing pending', async () => {
    const redis = await startRedis();
    const store = new SessionStore(
      redis.client,
      new FileBlobStore(mkdtempSync(join(tmpdir(), 'tern-outbox-'))),
    );
    const queue = openTurnQueue(redis.url);
    try {
      const idle = await store.create({ model: 'openai-compatible:tern-sim' });
      const pending = await store.create({ model: 'openai-compatible:tern-sim' });
      await store.appendInput(pending.id, 'waiting', undefined);
      const now = Date.now();
      openTicket(redis.client, idle.id, now - 10_000);
      openTicket(redis.client, pending.id, now - 10_000);
      openTicket(redis.client, 'young-session', now);
      await redis.client.ping();
      const swept = await sweepOutbox(redis.client, store, queue, {
        graceMs: 5_000,
        owner: 'a',
        now,
      });
      expect(swept).toEqual({ checked: 2, requeued: [pending.id] });
      expect(await queue.getJob(turnJobId(pending.id, 1))).toBeDefined();
      const left = await redis.client.zrange(OUTBOX_KEY, '0', '-1');
      expect(left.map((t) => t.split('|')[0])).toEqual(['young-session']);
      // One sweeper at a time: the lock is held for the grace period.
      expect(
        await sweepOutbox(redis.client, store, queue, { graceMs: 5_000, owner: 'b' }),
      ).toBeUndefined();
    } finally {
      await queue.close();
      await redis.stop();
    }
  });
});
