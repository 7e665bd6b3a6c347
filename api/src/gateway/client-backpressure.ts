import type { EventEmitter } from 'node:events';

/** When a gateway client counts as backed up, and how much a catch-up sends at once. */
export type BackpressureLimits = {
  /** engine.io packets queued for the socket (not yet handed to its transport). */
  maxPackets: number;
  /** Bytes in the WebSocket's own buffer (handed to it, not yet taken by the kernel). */
  maxBytes: number;
  /** Events per XRANGE page of a replay. */
  pageSize: number;
};

export const defaultBackpressureLimits: BackpressureLimits = {
  maxPackets: 1000,
  maxBytes: 1_048_576,
  pageSize: 500,
};

/** What one socket holds in the gateway's memory for its client. */
export type Buffered = { packets: number; bytes: number; writable: boolean };

/**
 * The parts of an engine.io connection that show its backlog. `writeBuffer` is private in
 * engine.io's typings but is the documented place packets wait while the transport is busy; the
 * WebSocket transport keeps the `ws` socket, whose `bufferedAmount` counts what Node still holds.
 */
type EngineConnection = EventEmitter & {
  readyState: string;
  writeBuffer: unknown[];
  transport: EventEmitter & { writable: boolean; socket?: { bufferedAmount?: unknown } };
};

const engine = (conn: unknown) => conn as EngineConnection;

export function bufferedOf(conn: unknown): Buffered {
  const c = engine(conn);
  const bytes = c.transport.socket?.bufferedAmount;
  return {
    packets: c.writeBuffer.length,
    bytes: typeof bytes === 'number' ? bytes : 0,
    writable: c.transport.writable,
  };
}

export function isBackedUp(buffered: Buffered, limits: BackpressureLimits): boolean {
  return buffered.packets > limits.maxPackets || buffered.bytes > limits.maxBytes;
}

/**
 * Everything sent so far has reached the kernel: nothing is queued and the transport finished its
 * last write (a WebSocket transport turns writable once `ws` reports the write flushed).
 */
export function isDrained(buffered: Buffered): boolean {
  return buffered.packets === 0 && buffered.writable;
}

/**
 * Resolves true once the connection is drained, false if it closes first. It wakes on engine.io's
 * `drain` (the queue was handed to the transport) and on the transport's `ready` (its last write
 * completed); the transport is looked up again on each wake because an upgrade replaces it.
 */
export function waitForDrain(conn: unknown): Promise<boolean> {
  const c = engine(conn);
  return new Promise((resolve) => {
    let transport = c.transport;
    // A safety net beside the events: a drain that happened between two of them (or an event a
    // transport does not emit) must not leave the client paused for good.
    const poll = setInterval(() => check(), 100);
    const finish = (ok: boolean) => {
      clearInterval(poll);
      c.off('drain', check);
      c.off('close', closed);
      transport.off('ready', check);
      resolve(ok);
    };
    const closed = () => finish(false);
    function check() {
      if (c.readyState === 'closing' || c.readyState === 'closed') return finish(false);
      if (isDrained(bufferedOf(c))) return finish(true);
      if (c.transport !== transport) {
        transport.off('ready', check);
        transport = c.transport;
        transport.on('ready', check);
      }
    }
    c.on('drain', check);
    c.once('close', closed);
    transport.on('ready', check);
    check();
  });
}
