import { join } from 'node:path';
import { batchKeys } from '@tern/shared/batch/batch-keys';
import { BatchStore } from '@tern/shared/batch/batch-store';
import type { BatchEvent, BatchStreamEvent } from '@tern/shared/protocol/batch-api';
import type { SubscribeAck } from '@tern/shared/protocol/events';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchJob } from '../helpers/batch-api-fixtures.ts';
import { arrivals, connectGatewaySocket, type GatewaySocket } from '../helpers/gateway-socket.ts';
import { http } from '../helpers/http.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

// The gateway's batch watch against the real gateway process: events are appended with the same
// store the dispatcher writes with, and each watcher must get them once, in order, from its cursor.

let stack: Stack;
let otherToken: string;

beforeAll(async () => {
  stack = await startStack({ workers: 0 });
  otherToken = await stack.addUser('mallory');
});
afterAll(async () => {
  await stack?.stop();
});

const post = (body: unknown) => http('POST', `${stack.apiUrl}/v1/batches`, body);

describe('watch_batch over socket.io', () => {
  type Watcher = {
    socket: GatewaySocket;
    received: BatchStreamEvent[];
    reloads: string[];
    watch(batchId: string, lastEventId?: string): Promise<SubscribeAck>;
    until(count: number): Promise<void>;
  };
  const sockets: Watcher['socket'][] = [];
  afterAll(() => {
    for (const socket of sockets) socket.close();
  });

  async function watcher(token = stack.token): Promise<Watcher> {
    const socket = await connectGatewaySocket(stack.gatewayUrl, token);
    sockets.push(socket);
    const received = arrivals<BatchStreamEvent>();
    const reloads: string[] = [];
    socket.on('batch_event', (envelope) => received.push(envelope));
    socket.on('batch_reload', (info) => reloads.push(info.batchId));
    return {
      socket,
      received: received.items,
      reloads,
      watch: (batchId, lastEventId) =>
        new Promise((resolve) =>
          socket.emit(
            'watch_batch',
            lastEventId === undefined ? { batchId } : { batchId, lastEventId },
            resolve,
          ),
        ),
      until: (count) =>
        received.until(
          (all) => all.length >= count,
          20_000,
          (all) => `received ${all.length} batch events, waited for ${count}`,
        ),
    };
  }

  const started = (batchId: string, index: number): BatchEvent => ({
    type: 'target_started',
    batchId,
    targetId: `t${index}`,
    sessionId: `ses_b${batchId.slice(4)}t${index}`,
    attempt: 1,
  });

  it('replays what follows the cursor, then follows the stream: each event once, in order', async () => {
    const batchId = (await post(batchJob())).body.batch.id as string;
    const store = new BatchStore(
      stack.redis.client,
      new FileBlobStore(join(stack.dataDir, 'blobs')),
    );
    const ids = [
      await store.publish(batchId, started(batchId, 0)),
      await store.publish(batchId, started(batchId, 1)),
      await store.publish(batchId, {
        type: 'target_finished',
        batchId,
        targetId: 't0',
        status: 'passed',
        durationMs: 1200,
      }),
    ];

    const a = await watcher();
    expect(await a.watch(batchId, ids[0])).toEqual({ ok: true, lastEventId: ids[2] });
    // The replay is sent before the acknowledgement, on the same connection.
    expect(a.received.map((e) => e.id)).toEqual([ids[1], ids[2]]);
    expect(a.received[1]?.event).toEqual({
      type: 'target_finished',
      batchId,
      targetId: 't0',
      status: 'passed',
      durationMs: 1200,
    });

    // Without a cursor: from now on. With 0-0: everything retained.
    const b = await watcher();
    expect(await b.watch(batchId)).toEqual({ ok: true, lastEventId: ids[2] });
    const c = await watcher();
    expect(await c.watch(batchId, '0-0')).toEqual({ ok: true, lastEventId: ids[2] });
    expect(c.received.map((e) => e.id)).toEqual(ids);

    ids.push(await store.publish(batchId, started(batchId, 2)));
    await Promise.all([a.until(3), b.until(1), c.until(4)]);
    expect(a.received.map((e) => e.id)).toEqual(ids.slice(1));
    expect(b.received.map((e) => e.id)).toEqual([ids[3]]);
    expect(c.received.map((e) => e.id)).toEqual(ids);

    // Unwatched, then watched again from its cursor: what it missed comes once, by the replay.
    a.socket.emit('unwatch_batch', { batchId });
    ids.push(await store.publish(batchId, started(batchId, 3)));
    await b.until(2);
    expect(await a.watch(batchId, ids[3])).toEqual({ ok: true, lastEventId: ids[4] });
    ids.push(await store.publish(batchId, started(batchId, 4)));
    await Promise.all([a.until(5), b.until(3)]);
    expect(a.received.map((e) => e.id)).toEqual(ids.slice(1));
    expect(a.reloads).toEqual([]);
  });

  it('tells a watcher whose cursor was trimmed away to reload, then follows from the end', async () => {
    const batchId = (await post(batchJob())).body.batch.id as string;
    const store = new BatchStore(
      stack.redis.client,
      new FileBlobStore(join(stack.dataDir, 'blobs')),
    );
    const old = await store.publish(batchId, started(batchId, 0));
    await store.publish(batchId, started(batchId, 1));
    const kept = await store.publish(batchId, started(batchId, 2));
    await stack.redis.client.xtrim(batchKeys.events(batchId), 'MAXLEN', 1);

    const w = await watcher();
    expect(await w.watch(batchId, old)).toEqual({ ok: true, lastEventId: kept });
    expect(w.reloads).toEqual([batchId]);
    expect(w.received).toEqual([]);
    const next = await store.publish(batchId, started(batchId, 3));
    await w.until(1);
    expect(w.received.map((e) => e.id)).toEqual([next]);
  });

  it("refuses another user's batch as an unknown one, and a malformed request", async () => {
    const batchId = (await post(batchJob())).body.batch.id as string;
    const other = await watcher(otherToken);
    const theirs = await other.watch(batchId);
    const none = await other.watch('bat_0000000000000000');
    expect(theirs).toMatchObject({ ok: false, code: 'batch_not_found' });
    expect(none).toMatchObject({ ok: false, code: 'batch_not_found' });
    const malformed = await other.watch('../etc');
    expect(malformed).toMatchObject({ ok: false, code: 'invalid_request' });
    const badCursor = await other.watch(batchId, 'yesterday');
    expect(badCursor).toMatchObject({ ok: false, code: 'invalid_request' });
  });
});
