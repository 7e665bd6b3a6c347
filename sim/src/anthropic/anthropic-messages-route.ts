import { STREAM_ERROR_AFTER_PIECES } from '../fault-plan.ts';
import { acquireGeneration } from '../generation.ts';
import { readBody } from '../http-io.ts';
import { applyLatencyHeaders } from '../latency.ts';
import { SIM_FAST_MODEL } from '../openai/openai-models.ts';
import { hashString, mulberry32 } from '../random.ts';
import { planFor } from '../reply-planner.ts';
import type { RouteHandler } from '../sim-context.ts';
import { checkAnthropicHeaders } from './anthropic-auth.ts';
import { asAnthropicExchange, invalidRequest, sendAnthropicError } from './anthropic-errors.ts';
import { ANTHROPIC_FAULTS, type AnthropicFaultAction } from './anthropic-faults.ts';
import { messageId, toolUseId } from './anthropic-ids.ts';
import { fullMessage } from './anthropic-message.ts';
import { buildReply, stepCount } from './anthropic-output.ts';
import { sendEventStream, sendMessageBody } from './anthropic-reply-writer.ts';
import { parseAnthropicRequest } from './anthropic-request.ts';
import { type StreamContext, streamEvents } from './anthropic-stream-events.ts';

const REPLY: AnthropicFaultAction = { kind: 'reply' };

/**
 * `POST /v1/messages`. Checks run in the API's order (key and version headers, then the body),
 * then the plan and fault are chosen (scenario or rule model), then the request waits for a
 * generation slot and its reply is paced by the latency model.
 */
export const handleMessages: RouteHandler = async (raw) => {
  const exchange = asAnthropicExchange(raw);
  const { req, ctx } = exchange;
  const denied = checkAnthropicHeaders(req.headers);
  if (denied) return sendAnthropicError(exchange, denied);

  const bodyText = await readBody(req);
  const parsed = parseAnthropicRequest(bodyText);
  if (!parsed.ok) return sendAnthropicError(exchange, parsed.error);
  const request = parsed.request;
  const choice = planFor(request.modelRequest, req.headers, ctx);
  if (!choice.ok) return sendAnthropicError(exchange, invalidRequest(choice.message));
  const routeLatency = ctx.routeLatency.anthropic;
  const base =
    request.model === SIM_FAST_MODEL ? { ...routeLatency, ttftMs: 0, itlMs: 0 } : routeLatency;
  const latency = applyLatencyHeaders(base, req.headers, choice.fault);
  if (!latency.ok) return sendAnthropicError(exchange, invalidRequest(latency.message));

  const action = choice.fault ? ANTHROPIC_FAULTS[choice.fault](request) : REPLY;
  if (action.kind === 'respond') return sendAnthropicError(exchange, action.response);
  // A hung request keeps its connection open and is never answered; it ends when the client
  // aborts or the server closes.
  if (action.kind === 'hang') return;
  // Without a stream there is nowhere to fail half-way: the error is the whole answer.
  if (action.kind === 'stream_error' && !request.stream) {
    return sendAnthropicError(exchange, action.fallback);
  }

  // Seeded by the request itself, so the same conversation gets the same tool ids and jitter
  // however requests interleave.
  const random = mulberry32(hashString(bodyText, ctx.seed));
  const reply = buildReply(choice.plan, {
    maxTokens: request.maxTokens,
    stop: request.stop,
    thinking: request.thinking,
    toolIds: choice.plan.toolCalls.map(() => toolUseId(random)),
  });
  const generation = await acquireGeneration(
    exchange,
    latency.latency,
    random,
    request.promptTokens,
  );
  if (!generation) return; // the client left while queued
  try {
    const context: StreamContext = {
      id: messageId(ctx.random),
      model: request.model,
      promptTokens: request.promptTokens,
    };
    const cut = action.kind === 'cut';
    const steps = stepCount(reply);
    const errorAfter =
      action.kind === 'stream_error'
        ? {
            pieces: Math.min(STREAM_ERROR_AFTER_PIECES, Math.floor(steps / 2)),
            error: action.error,
          }
        : undefined;
    const completed = request.stream
      ? await sendEventStream(
          exchange,
          streamEvents(reply, context, errorAfter ? { errorAfter } : {}),
          generation.dueAt,
          cut,
        )
      : await sendMessageBody(
          exchange,
          { data: JSON.stringify(fullMessage(reply, context)), step: Math.max(steps - 1, 0) },
          generation.dueAt,
          cut,
        );
    if (completed && !errorAfter) generation.completed(request.promptTokens, reply.outputTokens);
  } finally {
    generation.release();
  }
};
