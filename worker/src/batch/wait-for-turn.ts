import { setTimeout as sleep } from 'node:timers/promises';
import { wakeCapacityWait } from '@tern/shared/queue/capacity-wait';
import { type TurnJobData, turnJobId } from '@tern/shared/queue/turn-queue';
import type { SessionStore } from '@tern/shared/session/session-store';
import type { Queue } from 'bullmq';

/** The dispatcher is stopping: the job goes back to the queue, another dispatcher resumes it. */
export class HandedBackError extends Error {
  override name = 'HandedBackError';
}

export type TurnWait =
  /** The input is done: the log holds the turn's end. */
  | { kind: 'ended' }
  /** The turn asks a human to approve a tool call; no one will in a batch. */
  | { kind: 'awaiting_approval' }
  /** The turn's job failed for good in the turn queue: no worker will run it. */
  | { kind: 'job_failed'; reason: string };

/** Polls between checks of the turn job's own state (a job failing for good is rare). */
const JOB_CHECK_EVERY = 10;

export type WaitForTurnOptions = {
  store: SessionStore;
  turns: Queue<TurnJobData>;
  pollMs: number;
  /** Aborts when the batch is being cancelled: the turn is asked to stop, then waited for. */
  cancelled: AbortSignal;
  /** Aborts when the dispatcher stops: the wait ends with `HandedBackError`. */
  stopping: AbortSignal;
};

/**
 * Waits until a worker has finished the session's input `inputSeq`, reading the session's meta
 * every poll (the turn runs on workers; the dispatcher only watches). A batch cancel is passed
 * on as the session's own cancel, woken out of a capacity wait as the API does, and the turn's
 * end is still waited for, so its log says how it ended.
 */
export async function waitForTurn(
  options: WaitForTurnOptions,
  sessionId: string,
  inputSeq: number,
): Promise<TurnWait> {
  const { store, turns } = options;
  const wake = AbortSignal.any([options.cancelled, options.stopping]);
  let cancelAsked = false;
  for (let poll = 1; ; poll++) {
    if (options.stopping.aborted) throw new HandedBackError('the dispatcher is stopping');
    const meta = await store.meta(sessionId);
    if (!meta) throw new Error(`session ${sessionId} is gone`);
    if (meta.doneInputSeq >= inputSeq) return { kind: 'ended' };
    if (meta.status === 'awaiting_approval') return { kind: 'awaiting_approval' };
    if (options.cancelled.aborted && !cancelAsked) {
      cancelAsked = true;
      await store.requestCancel(sessionId);
      await wakeCapacityWait(turns, store.redis, sessionId);
    }
    if (poll % JOB_CHECK_EVERY === 0) {
      const job = await turns.getJob(turnJobId(sessionId, inputSeq));
      if (job && (await job.isFailed())) {
        return { kind: 'job_failed', reason: job.failedReason || 'the turn job failed' };
      }
    }
    // Woken early by a cancel (to pass it on at once) or a stop; otherwise one poll interval.
    const signal = cancelAsked ? options.stopping : wake;
    await sleep(options.pollMs, undefined, { signal }).catch(() => {});
  }
}
