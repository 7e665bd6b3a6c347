import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { redisKeys } from '../session/session-keys.ts';

/**
 * A turn that waits for provider capacity waits as a delayed job, possibly for a minute, rather
 * than in a worker slot. A cancel must not wait that long: the worker notes which job waits, and
 * the API promotes that job when the user cancels, so a worker runs it now, finds the cancel
 * and ends the turn. The note expires shortly after the job is due anyway.
 */
export async function noteCapacityWait(
  redis: Redis,
  sessionId: string,
  jobId: string,
  waitMs: number,
): Promise<void> {
  await redis.set(redisKeys.capacityWait(sessionId), jobId, 'PX', Math.ceil(waitMs) + 5000);
}

/** Runs the session's capacity-waiting job now, if there is one; true when one was woken. */
export async function wakeCapacityWait(
  queue: Queue,
  redis: Redis,
  sessionId: string,
): Promise<boolean> {
  const jobId = await redis.get(redisKeys.capacityWait(sessionId));
  if (!jobId) return false;
  const job = await queue.getJob(jobId);
  if (!job || !(await job.isDelayed())) return false;
  try {
    await job.promote();
    return true;
  } catch {
    // It became due (or was taken) between the check and the promotion: it runs anyway.
    return false;
  }
}
