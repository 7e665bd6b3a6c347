import { piecesBeforeStreamError } from '../fault-plan.ts';
import { acquireGeneration } from '../generation.ts';
import { readBody } from '../http-io.ts';
import { applyLatencyHeaders } from '../latency.ts';
import { hashString, mulberry32 } from '../random.ts';
import { renderOutput } from '../reply-output.ts';
import { planFor } from '../reply-planner.ts';
import type { RouteHandler, SimExchange } from '../sim-context.ts';
import { checkAuth } from './openai-auth.ts';
import { chatCompletion } from './openai-completion.ts';
import { chooseDialect, type OpenAiDialect } from './openai-dialect.ts';
import { inStreamErrorBody, sendDialectError } from './openai-dialect-errors.ts';
import { autoToolChoiceDisabled, invalidRequest, modelNotFound } from './openai-errors.ts';
import { type FaultAction, OPENAI_FAULTS } from './openai-faults.ts';
import { dialectCompletionId, dialectToolCallId } from './openai-ids.ts';
import { leakToolCalls } from './openai-leaked-tool-calls.ts';
import { SIM_FAST_MODEL } from './openai-models.ts';
import { sendCompletion, sendStream } from './openai-reply-writer.ts';
import { parseChatRequest } from './openai-request.ts';
import { type StreamContext, streamChunks } from './openai-stream-chunks.ts';

const REPLY: FaultAction = { kind: 'reply' };

/**
 * `POST /v1/chat/completions`. Checks run in the real servers' order (key, then body), then the
 * plan and fault are chosen (scenario or rule model), then the request waits for a generation slot
 * and its reply is paced by the latency model. Everything a dialect changes is read from its row.
 */
export const handleChatCompletions: RouteHandler = async (exchange) => {
  const { req, ctx } = exchange;
  const chosen = chooseDialect(req.headers, ctx.dialect);
  // An unknown dialect is reported in the server's own.
  if (!chosen.ok) return badHeader(exchange, ctx.dialect, chosen);
  const dialect = chosen.dialect;
  const denied = checkAuth(req.headers);
  if (denied) return sendDialectError(exchange, dialect, denied);

  const bodyText = await readBody(req);
  const parsed = parseChatRequest(bodyText);
  if (!parsed.ok) return sendDialectError(exchange, dialect, { status: 400, body: parsed.error });
  const chat = parsed.request;
  // vLLM checks the model name, then whether it may parse tool calls, before generating.
  if (ctx.servedModel !== undefined && chat.model !== ctx.servedModel) {
    const style = dialect.errorShape === 'openai' ? 'openai' : 'vllm';
    return sendDialectError(exchange, dialect, modelNotFound(chat.model, style));
  }
  if (!dialect.autoToolChoice && chat.autoToolChoice) {
    return sendDialectError(exchange, dialect, autoToolChoiceDisabled());
  }
  const request = dialect.alwaysReasons
    ? { ...chat.modelRequest, reasoning: true }
    : chat.modelRequest;
  const choice = planFor(request, req.headers, ctx);
  if (!choice.ok) return badHeader(exchange, dialect, choice);
  const routeLatency = ctx.routeLatency.openai;
  const base =
    chat.model === SIM_FAST_MODEL ? { ...routeLatency, ttftMs: 0, itlMs: 0 } : routeLatency;
  const latency = applyLatencyHeaders(base, req.headers, choice.fault);
  if (!latency.ok) return badHeader(exchange, dialect, latency);

  const faultContext = { ...chat, dialect };
  const action = choice.fault ? OPENAI_FAULTS[choice.fault](faultContext) : REPLY;
  if (action.kind === 'respond') return sendDialectError(exchange, dialect, action.response);
  // A hung request keeps its connection open and is never answered; it ends when the client aborts
  // or the server closes.
  if (action.kind === 'hang') return;
  // Without a stream there is nowhere to fail half-way: the error is the whole answer.
  if (action.kind === 'stream_error' && !chat.stream) {
    return sendDialectError(exchange, dialect, action.response);
  }

  // Seeded by the request itself, so the same conversation gets the same tool-call ids and jitter
  // however requests interleave.
  const random = mulberry32(hashString(bodyText, ctx.seed));
  const plan = dialect.leakToolCallsAsText ? leakToolCalls(choice.plan) : choice.plan;
  const output = renderOutput(plan, {
    maxTokens: chat.maxTokens,
    stop: chat.stop,
    wholeArguments: dialect.argumentsInOneDelta,
  });
  const toolCallIds = plan.toolCalls.map(() => dialectToolCallId(dialect, random));
  const generation = await acquireGeneration(
    exchange,
    latency.latency,
    random,
    chat.promptTokens,
    output.completionTokens,
  );
  if (!generation) return; // the client left while queued
  try {
    const reply: StreamContext = {
      id: dialectCompletionId(dialect, ctx.random),
      created: Math.floor(Date.now() / 1000),
      model: chat.model,
      includeUsage: chat.includeUsage,
      promptTokens: chat.promptTokens,
      toolCallIds,
      dialect,
    };
    const cut = { cut: action.kind === 'cut' };
    const streamError =
      action.kind === 'stream_error'
        ? {
            afterPieces: piecesBeforeStreamError(output.pieces),
            body: inStreamErrorBody(dialect, action.response),
          }
        : undefined;
    const completed = chat.stream
      ? await sendStream(exchange, streamChunks(output, reply, streamError), generation.dueAt, cut)
      : await sendCompletion(
          exchange,
          {
            data: JSON.stringify(chatCompletion(output, reply)),
            step: Math.max(output.pieces.length - 1, 0),
          },
          generation.dueAt,
          cut,
        );
    if (completed && !streamError) {
      generation.completed(chat.promptTokens, output.completionTokens);
    }
  } finally {
    generation.release();
  }
};

function badHeader(
  exchange: SimExchange,
  dialect: OpenAiDialect,
  { header, message }: { header: string; message: string },
): void {
  sendDialectError(exchange, dialect, { status: 400, body: invalidRequest(message, header) });
}
