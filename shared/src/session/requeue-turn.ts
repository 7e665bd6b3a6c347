import { Queue } from 'bullmq';
import { TURN_QUEUE, type TurnJobData, turnJobId } from '../queue/turn-queue.ts';

/**
 * Queues the turn of a session's first pending input again, after a Redis rebuild lost the queue
 * with everything else. The job id is the one the API gives that input, so a turn that is still
 * queued is not queued twice; the worker then drains the session's pending inputs in order.
 */
export async function requeueTurn(queue: Queue<TurnJobData>, sessionId: string, inputSeq: number) {
  await queue.add(
    'turn',
    { sessionId, inputSeq, enqueuedAt: Date.now() },
    {
      jobId: turnJobId(sessionId, inputSeq),
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
    },
  );
}

export function openTurnQueue(redisUrl: string): Queue<TurnJobData> {
  return new Queue<TurnJobData>(TURN_QUEUE, {
    connection: { url: redisUrl, maxRetriesPerRequest: null },
  });
}
