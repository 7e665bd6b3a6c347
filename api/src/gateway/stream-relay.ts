import { redisKeys } from '@tern/shared/session/session-keys';
import type { Redis } from 'ioredis';

export type RelayedEntry = { id: string; payload: string };
/** `previousId`: the session's cursor before this batch, i.e. the last event relayed before it. */
export type RelayListener = (
  sessionId: string,
  entries: RelayedEntry[],
  previousId: string,
) => void;

type XReadReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

/**
 * Tails the event streams of the sessions this gateway's clients watch, with one blocking XREAD
 * over all of them. When the set changes, the blocked read is interrupted with CLIENT UNBLOCK so
 * a new session is tailed at once rather than after the block timeout.
 */
export class StreamRelay {
  readonly #commands: Redis;
  readonly #reader: Redis;
  readonly #listener: RelayListener;
  readonly #cursors = new Map<string, string>();
  #readerId: number | undefined;
  #running = false;
  #wake: (() => void) | undefined;
  #blocked = false;
  /** The watch set changed after the current read was issued. */
  #stale = false;
  #unblocking = false;

  constructor(commands: Redis, reader: Redis, listener: RelayListener) {
    this.#commands = commands;
    this.#reader = reader;
    this.#listener = listener;
  }

  async start(): Promise<void> {
    this.#readerId = Number(await this.#reader.client('ID'));
    this.#running = true;
    void this.#loop();
  }

  stop(): void {
    this.#running = false;
    this.#interrupt();
  }

  /** The id of the last event relayed for a session (what a new watcher is caught up to). */
  cursor(sessionId: string): string | undefined {
    return this.#cursors.get(sessionId);
  }

  watched(): number {
    return this.#cursors.size;
  }

  /** Starts tailing a session from its stream's current end; returns the cursor. */
  async watch(sessionId: string): Promise<string> {
    const existing = this.#cursors.get(sessionId);
    if (existing !== undefined) return existing;
    const last = await this.#commands.xrevrange(redisKeys.events(sessionId), '+', '-', 'COUNT', 1);
    // Another watch of the same session may have won the race while we awaited.
    const raced = this.#cursors.get(sessionId);
    if (raced !== undefined) return raced;
    const cursor = last[0]?.[0] ?? '0-0';
    this.#cursors.set(sessionId, cursor);
    this.#interrupt();
    return cursor;
  }

  unwatch(sessionId: string): void {
    if (this.#cursors.delete(sessionId)) this.#interrupt();
  }

  #interrupt(): void {
    if (this.#wake) {
      this.#wake();
      this.#wake = undefined;
    }
    this.#stale = true;
    if (this.#blocked && !this.#unblocking) void this.#unblock();
  }

  /**
   * CLIENT UNBLOCK can reach Redis before the XREAD it targets (the two travel on different
   * connections), so it is repeated until the read returns with the fresh set of keys.
   */
  async #unblock(): Promise<void> {
    this.#unblocking = true;
    try {
      while (this.#blocked && this.#stale && this.#readerId !== undefined) {
        const done = await this.#commands.client('UNBLOCK', this.#readerId).catch(() => 0);
        if (done === 1) break;
        await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      this.#unblocking = false;
    }
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      if (this.#cursors.size === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const sessions = [...this.#cursors.keys()];
      const keys = sessions.map((s) => redisKeys.events(s));
      const ids = sessions.map((s) => this.#cursors.get(s)!);
      let reply: XReadReply;
      this.#stale = false;
      try {
        this.#blocked = true;
        reply = (await this.#reader.xread(
          'COUNT',
          1000,
          'BLOCK',
          5000,
          'STREAMS',
          ...keys,
          ...ids,
        )) as XReadReply;
      } catch {
        // Redis went away: wait a little and retry; cursors are kept, so nothing is skipped.
        await new Promise((r) => setTimeout(r, 200));
        continue;
      } finally {
        this.#blocked = false;
      }
      if (!reply) continue;
      for (const [key, entries] of reply) {
        const sessionId = sessions[keys.indexOf(key)];
        if (sessionId === undefined || !this.#cursors.has(sessionId) || entries.length === 0)
          continue;
        const relayed = entries.map(([id, fields]) => ({ id, payload: fields[1] ?? '{}' }));
        const previousId = this.#cursors.get(sessionId)!;
        this.#cursors.set(sessionId, relayed.at(-1)!.id);
        this.#listener(sessionId, relayed, previousId);
      }
    }
  }
}
