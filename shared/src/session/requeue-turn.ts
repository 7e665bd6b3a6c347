import { Queue } from 'bullmq';
import { TURN_QUEUE, type TurnJobData, turnJobId, turnJobOptions } from '../queue/turn-queue.ts';

/**
 * Queues the turn of a session's first pending input again, after a Redis rebuild lost the queue
 * with everything else. The job id is the one the API gives that input, so a turn that is still
 * queued is not queued twice; the worker then drains the session's pending inputs in order.
 */
export async function requeueTurn(queue: Queue<TurnJobData>, sessionId: string, inputSeq: number) {
  await queue.add(
    'turn',
    { sessionId, inputSeq, enqueuedAt: Date.now() },
    turnJobOptions(turnJobId(sessionId, inputSeq)),
  );
}

export function openTurnQueue(redisUrl: string): Queue<TurnJobData> {
  return new Queue<TurnJobData>(TURN_QUEUE, {
    connection: { url: redisUrl, maxRetriesPerRequest: null },
  });
}
