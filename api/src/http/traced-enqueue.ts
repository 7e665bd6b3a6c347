import { genAi } from '@tern/shared/obs/genai-spans';
import {
  contextFromTraceparent,
  SpanKind,
  SpanStatusCode,
  type Tracing,
  traceparentOf,
  untraced,
} from '@tern/shared/obs/tracing';
import { TURN_QUEUE, type TurnJobData, turnJobOptions } from '@tern/shared/queue/turn-queue';
import type { Queue } from 'bullmq';

/**
 * Adds a turn job inside an `enqueue` span (the root of the turn's trace, or a child of the
 * caller's own `traceparent` header) and puts the span's context in the job data, where the
 * worker continues the trace.
 */
export async function enqueueTurn(
  turns: Queue<TurnJobData>,
  data: TurnJobData,
  jobId: string,
  trace: { tracing?: Tracing | undefined; traceparent?: string | undefined },
  /** BullMQ priority (fair-queue.ts); none puts the job ahead of every prioritised one. */
  priority?: number,
): Promise<void> {
  const span = (trace.tracing ?? untraced).startSpan(
    `enqueue ${TURN_QUEUE}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': TURN_QUEUE,
        'messaging.message.id': jobId,
        [genAi.conversationId]: data.sessionId,
        'tern.input.seq': data.inputSeq,
      },
    },
    contextFromTraceparent(trace.traceparent),
  );
  try {
    await turns.add(
      'turn',
      { ...data, traceparent: traceparentOf(span) },
      turnJobOptions(jobId, priority),
    );
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'queue unavailable' });
    throw error;
  } finally {
    span.end();
  }
}
