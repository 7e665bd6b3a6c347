import { scripts } from '../redis/lua-script.ts';
import { toolProposalKeys } from '../tools/tool-proposal-keys.ts';
import { blobKeys, redisKeys } from './session-keys.ts';
import { type SessionStore, turnIdFor } from './session-store.ts';

/**
 * `inputSeq` is the session's last input, for callers cleaning up per-input records (jobs);
 * `busy`: a turn is running (the lease is held and an input is not done).
 */
export type DeleteResult =
  | { kind: 'deleted'; inputSeq: number }
  | { kind: 'not_found' }
  | { kind: 'busy' };

/**
 * A fork registered this long ago whose session neither exists nor is being deleted never came
 * to be (its creator died between registering it and writing its head); it is forgotten. Far
 * longer than creating a fork takes, so a fork being created is never mistaken for one.
 */
export const STALE_FORK_MS = 10 * 60_000;

/**
 * Deletes a session: every Redis key of it, its index entry and every blob under its prefix.
 *
 * 1. A script removes the session's Redis state at once (refusing while a turn holds the lease,
 *    unless `force`) and leaves a tombstone: from then on the session answers 404 everywhere, a
 *    worker still running it is fenced, and no fork of it can be registered.
 * 2. Keys the script cannot name (one per tool proposal, any added later) are found by a SCAN of
 *    the session's `{id}` hash tag.
 * 3. The blobs go. When forks still share the session's segments and workspace store (`ws/`:
 *    file blobs and trees, see workspace-store.ts), only those stay, under the tombstone, until the
 *    last fork is deleted; that deletion finishes this one (and so on up a chain of deleted
 *    ancestors).
 *
 * Every step is idempotent and the tombstone records what is left, so deleting again after a
 * crash finishes the job (the second call answers `not_found`).
 */
export async function deleteSession(
  store: SessionStore,
  id: string,
  options: { force?: boolean; now?: number } = {},
): Promise<DeleteResult> {
  const now = options.now ?? Date.now();
  // Read before the script removes the meta: the owner's index entry goes with the session.
  const owner = await store.owner(id);
  const [code, , , running, inputSeq] = (await scripts.deleteSession.run(
    store.redis,
    [
      redisKeys.meta(id),
      redisKeys.lease(id),
      redisKeys.deleted(id),
      redisKeys.forks(id),
      redisKeys.inputs(id),
      redisKeys.clientIds(id),
      redisKeys.segments(id),
      redisKeys.events(id),
      redisKeys.steering(id),
      redisKeys.cancel(id),
      toolProposalKeys.index(id),
      toolProposalKeys.approved(id),
    ],
    [options.force ? '1' : '0', now],
  )) as [number, string, number, number, number];
  if (code === -1) return { kind: 'busy' };
  if (code === 0) return { kind: 'not_found' };
  if (running > 0) {
    // The fenced worker would only notice at its next commit; this stops its model call now.
    await store.redis.publish(redisKeys.cancelChannel, `${id} ${turnIdFor(id, running)}`);
  }
  await deleteLeftoverKeys(store, id);
  const unindex = store.redis.multi().zrem(redisKeys.sessionIndex, id);
  if (owner) unindex.zrem(redisKeys.ownerIndex(owner), id);
  await unindex.exec();
  await releaseBlobs(store, id, now);
  return code === 1 ? { kind: 'deleted', inputSeq } : { kind: 'not_found' };
}

/** Keys of the session the deletion script did not name; the tombstone and forks set stay. */
async function deleteLeftoverKeys(store: SessionStore, id: string): Promise<void> {
  const keep = new Set([redisKeys.deleted(id), redisKeys.forks(id)]);
  let cursor = '0';
  do {
    const [next, keys] = await store.redis.scan(cursor, 'MATCH', `tern:{${id}}:*`, 'COUNT', 200);
    cursor = next;
    const doomed = keys.filter((k) => !keep.has(k));
    if (doomed.length > 0) await store.redis.del(...doomed);
  } while (cursor !== '0');
}

/**
 * Removes a deleted session's blobs, keeping what forks share while they exist. When the last
 * blob is gone the tombstone goes too, and the session is forgotten by its parent, whose own
 * deletion may have been waiting for it.
 */
async function releaseBlobs(store: SessionStore, id: string, now: number): Promise<void> {
  let current: string | undefined = id;
  while (current) {
    await forgetStaleForks(store, current, now);
    if ((await store.redis.zcard(redisKeys.forks(current))) > 0) {
      // Forks can no longer be added (registering needs the session), only removed.
      await deleteAllButShared(store, current);
      return;
    }
    await store.blobs.deletePrefix(blobKeys.sessionPrefix(current));
    const [finished, parent] = (await scripts.finishDeletion.run(
      store.redis,
      [redisKeys.deleted(current), redisKeys.forks(current)],
      [],
    )) as [number, string];
    if (finished !== 1 || !parent) return;
    const parentDone = await scripts.unregisterFork.run(
      store.redis,
      [redisKeys.forks(parent), redisKeys.meta(parent), redisKeys.deleted(parent)],
      [current],
    );
    current = parentDone === 1 ? parent : undefined;
  }
}

/** Folders of a session's blobs that its forks read. */
const SHARED_FOLDERS: ReadonlySet<string> = new Set(['segments', 'ws']);

/** Deletes folder by folder (proposals, snapshots, …), then loose blobs (the descriptor). */
async function deleteAllButShared(store: SessionStore, id: string): Promise<void> {
  const prefix = blobKeys.sessionPrefix(id);
  const doomed = new Set<string>();
  for (const key of await store.blobs.list(prefix)) {
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf('/');
    const folder = rest.slice(0, slash);
    if (slash === -1) doomed.add(key);
    else if (!SHARED_FOLDERS.has(folder)) doomed.add(`${prefix}${folder}/`);
  }
  for (const target of doomed) await store.blobs.deletePrefix(target);
}

async function forgetStaleForks(store: SessionStore, id: string, now: number): Promise<void> {
  const old = await store.redis.zrangebyscore(redisKeys.forks(id), 0, now - STALE_FORK_MS);
  for (const fork of old) {
    const alive = await store.redis.exists(redisKeys.meta(fork), redisKeys.deleted(fork));
    if (alive === 0) await store.redis.zrem(redisKeys.forks(id), fork);
  }
}
