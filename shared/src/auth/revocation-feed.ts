import type { Redis } from 'ioredis';
import { authKeys } from './auth-keys.ts';
import { parseRevokedMessage } from './user-store.ts';

export type RevocationHandlers = {
  /** Token hashes revoked just now. */
  revoked(hashes: string[]): void;
  /**
   * The subscription came back after its connection dropped: announcements made meanwhile are
   * lost (pub/sub keeps nothing), so every live credential must be checked again.
   */
  resync(): void;
};

/**
 * Follows revocations on a connection of its own (a subscribed connection can do nothing else).
 * Returns a function that stops it.
 */
export async function followRevocations(
  redis: Redis,
  handlers: RevocationHandlers,
): Promise<() => void> {
  const subscriber = redis.duplicate({ connectionName: 'tern-revocations' });
  subscriber.on('error', () => {});
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== authKeys.revokedChannel) return;
    const hashes = parseRevokedMessage(message);
    if (hashes.length > 0) handlers.revoked(hashes);
  });
  await subscriber.subscribe(authKeys.revokedChannel);
  // Every later `ready` is a reconnection; ioredis has re-sent SUBSCRIBE before emitting it.
  subscriber.on('ready', () => handlers.resync());
  return () => subscriber.disconnect();
}
