import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { bufferedOf, isBackedUp, isDrained, waitForDrain } from './client-backpressure.ts';

const limits = { maxPackets: 10, maxBytes: 1000, pageSize: 5 };

/** The shape of an engine.io connection on a WebSocket transport, as the gateway reads it. */
function connection() {
  const transport = Object.assign(new EventEmitter(), {
    writable: true,
    socket: { bufferedAmount: 0 },
  });
  return Object.assign(new EventEmitter(), {
    readyState: 'open',
    writeBuffer: [] as unknown[],
    transport,
  });
}

describe('client backpressure', () => {
  it('counts a client as backed up past either limit, not at it', () => {
    expect(isBackedUp({ packets: 10, bytes: 1000, writable: false }, limits)).toBe(false);
    expect(isBackedUp({ packets: 11, bytes: 0, writable: true }, limits)).toBe(true);
    expect(isBackedUp({ packets: 0, bytes: 1001, writable: false }, limits)).toBe(true);
  });

  it('reads queued packets and the WebSocket buffer, and zero bytes on other transports', () => {
    const conn = connection();
    conn.writeBuffer.push({}, {});
    conn.transport.socket.bufferedAmount = 512;
    conn.transport.writable = false;
    expect(bufferedOf(conn)).toEqual({ packets: 2, bytes: 512, writable: false });
    const polling = Object.assign(connection(), {
      transport: Object.assign(new EventEmitter(), { writable: true }),
    });
    expect(bufferedOf(polling)).toEqual({ packets: 0, bytes: 0, writable: true });
  });

  it('is drained only with nothing queued and the last write finished', () => {
    expect(isDrained({ packets: 0, bytes: 0, writable: true })).toBe(true);
    expect(isDrained({ packets: 0, bytes: 0, writable: false })).toBe(false);
    expect(isDrained({ packets: 1, bytes: 0, writable: true })).toBe(false);
  });

  it('waits until the transport finished writing with nothing left queued', async () => {
    const conn = connection();
    conn.transport.writable = false;
    conn.writeBuffer.push({});
    let done: boolean | undefined;
    void waitForDrain(conn).then((ok) => {
      done = ok;
    });
    // engine.io hands the queue to the busy transport: still not drained.
    conn.writeBuffer = [];
    conn.emit('drain');
    await Promise.resolve();
    expect(done).toBeUndefined();
    conn.transport.writable = true;
    conn.transport.emit('ready');
    await Promise.resolve();
    expect(done).toBe(true);
    expect(conn.listenerCount('drain') + conn.transport.listenerCount('ready')).toBe(0);
  });

  it('follows a transport upgrade and gives up when the connection closes', async () => {
    const conn = connection();
    conn.transport.writable = false;
    const waiting = waitForDrain(conn);
    const upgraded = Object.assign(new EventEmitter(), { writable: false, socket: {} });
    conn.transport = upgraded as typeof conn.transport;
    conn.emit('drain');
    expect(upgraded.listenerCount('ready')).toBe(1);
    conn.readyState = 'closed';
    conn.emit('close');
    expect(await waiting).toBe(false);
    expect(upgraded.listenerCount('ready')).toBe(0);
  });

  it('resolves at once for a connection that is already drained', async () => {
    expect(await waitForDrain(connection())).toBe(true);
  });
});
