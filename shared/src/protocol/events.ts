import { z } from 'zod';
import { finishReasonSchema, logEntrySchema, usageSchema } from '../session/log-entry.ts';
import type { BatchStreamEvent, WatchBatch } from './batch-api.ts';

/**
 * What a session streams to its watchers. `entry` events carry committed log entries, so a client
 * that applies them in order holds the same transcript as `GET /v1/sessions/:id`; the other events
 * are ephemeral progress (token deltas, turn boundaries).
 */
export const sessionEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('turn_started'), turnId: z.string(), inputSeq: z.number() }),
  /** The turn's state machine moved (awaiting_model, streaming, running_tools, …). */
  z.object({
    type: z.literal('turn_state'),
    turnId: z.string(),
    from: z.string(),
    to: z.string(),
  }),
  z.object({ type: z.literal('text_delta'), turnId: z.string(), text: z.string() }),
  z.object({ type: z.literal('reasoning_delta'), turnId: z.string(), text: z.string() }),
  z.object({
    type: z.literal('tool_call_delta'),
    turnId: z.string(),
    callId: z.string(),
    name: z.string(),
    argsText: z.string(),
  }),
  z.object({ type: z.literal('entry'), entry: logEntrySchema }),
  /** The model call failed before any output and is tried again after `delayMs`. */
  z.object({
    type: z.literal('model_retry'),
    turnId: z.string(),
    attempt: z.number().int().positive(),
    delayMs: z.number().nonnegative(),
    code: z.string(),
    message: z.string(),
  }),
  /**
   * Deltas streamed for this turn since its last committed entry will never be committed (the
   * call failed, or the turn resumed on another worker): watchers drop the live text.
   */
  z.object({ type: z.literal('stream_discarded'), turnId: z.string(), reason: z.string() }),
  /** A hook overran its time budget or threw; by its policy it was skipped or counted as deny. */
  z.object({
    type: z.literal('hook_warning'),
    turnId: z.string(),
    hook: z.string(),
    point: z.enum(['before_model', 'after_model', 'before_tool', 'after_tool']),
    callId: z.string().optional(),
    problem: z.enum(['timeout', 'error']),
    action: z.enum(['skipped', 'denied']),
    message: z.string(),
  }),
  /** The turn stopped without finishing; it resumes when the pending approvals are decided. */
  z.object({
    type: z.literal('turn_paused'),
    turnId: z.string(),
    reason: z.literal('awaiting_approval'),
    pending: z.array(z.string()),
    usage: usageSchema,
    steps: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('turn_finished'),
    turnId: z.string(),
    reason: finishReasonSchema,
    usage: usageSchema,
    steps: z.number().int().nonnegative(),
  }),
]);
export type SessionEvent = z.infer<typeof sessionEventSchema>;

/** An event as a client receives it: the Redis Stream id orders and deduplicates. */
export type EventEnvelope = {
  id: string;
  sessionId: string;
  event: SessionEvent;
};

export const subscribeRequestSchema = z
  .object({
    sessionId: z.string().min(1).max(100),
    /** Last event id the client holds; omitted means "from now on". */
    after: z
      .string()
      .regex(/^\d+-\d+$/)
      .optional(),
  })
  .strict();
export type SubscribeRequest = z.infer<typeof subscribeRequestSchema>;

export type SubscribeAck =
  | { ok: true; lastEventId: string }
  | { ok: false; code: string; message: string };

export interface ServerToClientEvents {
  event: (envelope: EventEnvelope) => void;
  /** The client's cursor fell out of the stream's retention: reload the transcript over HTTP. */
  reload: (info: { sessionId: string; reason: string }) => void;
  /** The connection's API token was revoked; the gateway closes the connection next. */
  unauthorized: (info: { code: string; message: string }) => void;
  /** An event of a watched batch's stream, in stream order, each once. */
  batch_event: (envelope: BatchStreamEvent) => void;
  /** The batch's events after the client's cursor were trimmed: reload it over HTTP. */
  batch_reload: (info: { batchId: string; reason: string }) => void;
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (result: SubscribeAck) => void) => void;
  unsubscribe: (request: { sessionId: string }) => void;
  /** Follow a batch's events after `lastEventId` (omitted: from now on; `0-0`: all retained). */
  watch_batch: (request: WatchBatch, ack: (result: SubscribeAck) => void) => void;
  unwatch_batch: (request: { batchId: string }) => void;
}
