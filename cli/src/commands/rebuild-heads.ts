import { loadConfig } from '@tern/shared/config/config';
import { connectRedis, redactUrl } from '@tern/shared/redis/connect-redis';
import { mapLimit } from '@tern/shared/session/map-limit';
import { openBlobStore } from '@tern/shared/session/open-blob-store';
import {
  listStoredSessionIds,
  type RebuildResult,
  rebuildSessionHead,
} from '@tern/shared/session/rebuild-session-head';
import { openTurnQueue, requeueTurn } from '@tern/shared/session/requeue-turn';

export type RebuildOptions = { force: boolean; requeue: boolean };

/**
 * `tern sessions rebuild-heads`: after Redis lost its data, restores every session's head from the
 * blob store (session.json, manifest, snapshots, segments) and re-queues turns that were cut
 * short, so workers resume them. Sessions still in Redis are left alone unless `--force`.
 * Prints one line per session and a summary; exits 1 when any session could not be rebuilt.
 */
export async function rebuildHeads(
  options: RebuildOptions,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const config = loadConfig();
  const blobs = openBlobStore(config);
  const redis = await connectRedis(config.REDIS_URL, 'tern-rebuild-heads');
  const queue = options.requeue ? openTurnQueue(config.REDIS_URL) : undefined;
  try {
    out(`rebuilding session heads in ${redactUrl(config.REDIS_URL)} from ${blobs.describe()}`);
    const ids = await listStoredSessionIds(blobs);
    const results = await mapLimit(ids, 4, async (id) => {
      const result = await rebuildSessionHead(redis, blobs, id, { force: options.force });
      out(describe(result));
      if (queue && result.status === 'rebuilt' && result.pendingInputs.length > 0) {
        await requeueTurn(queue, id, result.pendingInputs[0]!);
      }
      return result;
    });
    const count = (status: RebuildResult['status']) =>
      results.filter((r) => r.status === status).length;
    const requeued = results.filter((r) => r.status === 'rebuilt' && r.pendingInputs.length > 0);
    out(
      `${ids.length} sessions in the store: ${count('rebuilt')} rebuilt, ${count('present')} already in Redis, ${count('failed')} failed; ${requeued.length} unfinished turns ${queue ? 're-queued' : 'left pending (--no-requeue)'}`,
    );
    return count('failed') > 0 ? 1 : 0;
  } finally {
    await queue?.close();
    redis.disconnect();
  }
}

function describe(result: RebuildResult): string {
  switch (result.status) {
    case 'present':
      return `${result.id}: present in Redis, left alone`;
    case 'failed':
      return `${result.id}: FAILED ${result.error}`;
    case 'rebuilt': {
      const pending =
        result.pendingInputs.length > 0 ? `, pending inputs ${result.pendingInputs.join(',')}` : '';
      const snapshot = result.packedSeq > 0 ? `, packed to ${result.packedSeq}` : '';
      const notes = result.notes.map((n) => `\n  note: ${n}`).join('');
      return `${result.id}: rebuilt to seq ${result.lastSeq} (${result.segments} segments${snapshot}${pending})${notes}`;
    }
  }
}
