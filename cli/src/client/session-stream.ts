import type {
  ClientToServerEvents,
  EventEnvelope,
  ServerToClientEvents,
} from '@tern/shared/protocol/events';
import { compareStreamIds } from '@tern/shared/protocol/stream-ids';
import { io, type Socket } from 'socket.io-client';

/**
 * A live subscription to one session's events that keeps its cursor, so a reconnect (to this or
 * any other gateway) resumes exactly after the last event it handled.
 */
export class SessionStream {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly #sessionId: string;
  #lastId: string;
  #listeners = new Set<(envelope: EventEnvelope) => void>();

  private constructor(url: string, token: string, sessionId: string, after: string) {
    this.#sessionId = sessionId;
    this.#lastId = after;
    this.socket = io(url, { transports: ['websocket'], reconnectionDelay: 200, auth: { token } });
    this.socket.on('event', (envelope) => {
      if (envelope.sessionId !== this.#sessionId) return;
      if (compareStreamIds(envelope.id, this.#lastId) <= 0) return;
      this.#lastId = envelope.id;
      for (const listener of this.#listeners) listener(envelope);
    });
    this.socket.io.on('reconnect', () => void this.#subscribe());
  }

  static async open(
    url: string,
    token: string,
    sessionId: string,
    after: string,
  ): Promise<SessionStream> {
    const stream = new SessionStream(url, token, sessionId, after);
    try {
      await Promise.race([stream.#subscribe(), stream.#refused()]);
    } catch (error) {
      stream.close();
      throw error;
    }
    return stream;
  }

  /** Rejects when the gateway refuses the connection itself (a bad token): no retry helps. */
  #refused(): Promise<never> {
    return new Promise((_, reject) => {
      this.socket.on('connect_error', (error) => {
        if (this.socket.active) return; // a transient failure: socket.io retries by itself
        reject(new Error(`the gateway refused the connection: ${error.message}`));
      });
    });
  }

  onEvent(listener: (envelope: EventEnvelope) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #subscribe(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`the gateway did not answer (${this.socket.io.opts.hostname ?? ''})`)),
        10_000,
      );
      this.socket.emit('subscribe', { sessionId: this.#sessionId, after: this.#lastId }, (ack) => {
        clearTimeout(timer);
        if (ack.ok) resolve();
        else reject(new Error(`${ack.code}: ${ack.message}`));
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}
