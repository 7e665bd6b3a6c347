import { redisKeys } from '@tern/shared/session/session-keys';
import type { Redis } from 'ioredis';

/**
 * Cancels running turns when a user asks: the API publishes `<sessionId> <turnId>` and the worker
 * running that turn aborts it at once. Turns register while they run; a cancel that arrives
 * before a turn starts is found by the turn itself in the session's cancel key.
 */
export class CancelListener {
  readonly #running = new Map<string, { turnId: string; controller: AbortController }>();
  readonly #subscriber: Redis;

  private constructor(subscriber: Redis) {
    this.#subscriber = subscriber;
    subscriber.on('message', (_channel: string, message: string) => {
      const [sessionId = '', turnId = ''] = message.split(' ');
      const running = this.#running.get(sessionId);
      if (running && running.turnId === turnId) running.controller.abort(new Error('cancelled'));
    });
  }

  static async start(redis: Redis): Promise<CancelListener> {
    const subscriber = redis.duplicate();
    subscriber.on('error', () => {});
    await subscriber.subscribe(redisKeys.cancelChannel);
    return new CancelListener(subscriber);
  }

  /** Registers a running turn; the returned signal aborts when the user cancels it. */
  track(sessionId: string, turnId: string): { signal: AbortSignal; done(): void } {
    const controller = new AbortController();
    this.#running.set(sessionId, { turnId, controller });
    return {
      signal: controller.signal,
      done: () => {
        if (this.#running.get(sessionId)?.controller === controller)
          this.#running.delete(sessionId);
      },
    };
  }

  cancel(sessionId: string, turnId: string): void {
    const running = this.#running.get(sessionId);
    if (running?.turnId === turnId) running.controller.abort(new Error('cancelled'));
  }

  close(): void {
    this.#subscriber.disconnect();
  }
}
