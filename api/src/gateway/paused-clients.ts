/** A subscription taken out of its live room: where its client stands, and which pause it is. */
export type PausedSubscription = { sessionId: string; lastSentId: string; ticket: number };

/**
 * The subscriptions a gateway paused because their client could not keep up, by socket. Each
 * pause has a ticket: a catch-up that finds its ticket gone (the client unsubscribed, subscribed
 * again or left) stops without joining the room, so two replays never feed one client.
 * Only this gateway's own sockets are here; a client that moves to another gateway brings its
 * cursor with it.
 */
export class PausedClients {
  readonly #bySocket = new Map<string, Map<string, PausedSubscription>>();
  #tickets = 0;

  /** Pauses a subscription; undefined when it is already paused. */
  pause(socketId: string, sessionId: string, lastSentId: string): number | undefined {
    let sessions = this.#bySocket.get(socketId);
    if (!sessions) {
      sessions = new Map();
      this.#bySocket.set(socketId, sessions);
    }
    if (sessions.has(sessionId)) return undefined;
    const ticket = ++this.#tickets;
    sessions.set(sessionId, { sessionId, lastSentId, ticket });
    return ticket;
  }

  has(socketId: string): boolean {
    return this.#bySocket.has(socketId);
  }

  /** The socket's paused subscriptions, oldest pause first. */
  of(socketId: string): PausedSubscription[] {
    return [...(this.#bySocket.get(socketId)?.values() ?? [])];
  }

  /** Whether this pause still stands (its catch-up may go on). */
  holds(socketId: string, sessionId: string, ticket: number): boolean {
    return this.#bySocket.get(socketId)?.get(sessionId)?.ticket === ticket;
  }

  /** Ends a pause: its catch-up finished, or its client unsubscribed or left (no `sessionId`). */
  end(socketId: string, sessionId?: string): void {
    const sessions = this.#bySocket.get(socketId);
    if (!sessions) return;
    if (sessionId === undefined) sessions.clear();
    else sessions.delete(sessionId);
    if (sessions.size === 0) this.#bySocket.delete(socketId);
  }

  /** Paused subscriptions across all sockets. */
  size(): number {
    let n = 0;
    for (const sessions of this.#bySocket.values()) n += sessions.size;
    return n;
  }
}
