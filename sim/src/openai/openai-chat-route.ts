import type { ServerResponse } from 'node:http';
import { chooseFault, FAULT_HEADER } from '../faults.ts';
import { readBody } from '../http-io.ts';
import { applyLatencyHeaders, type LatencyModel, stepOffsets } from '../latency.ts';
import { type TimedChunk, writePaced } from '../paced-writer.ts';
import { hashString, mulberry32 } from '../random.ts';
import { renderOutput } from '../reply-output.ts';
import { planReply } from '../rule-model.ts';
import type { RouteHandler, SimExchange } from '../sim-context.ts';
import { checkAuth } from './openai-auth.ts';
import { chatCompletion } from './openai-completion.ts';
import { invalidRequest, sendOpenAiError } from './openai-errors.ts';
import { OPENAI_FAULTS } from './openai-faults.ts';
import { completionId, toolCallId } from './openai-ids.ts';
import { SIM_FAST_MODEL } from './openai-models.ts';
import { parseChatRequest } from './openai-request.ts';
import { type StreamContext, streamChunks } from './openai-stream-chunks.ts';

/**
 * `POST /v1/chat/completions`. Checks run in OpenAI's order (key, then body), then the requested
 * fault, then the request waits for a generation slot and its reply is paced by the latency model.
 */
export const handleChatCompletions: RouteHandler = async (exchange) => {
  const { req, ctx, signal } = exchange;
  const denied = checkAuth(req.headers);
  if (denied) return sendOpenAiError(exchange, denied);
  const fault = chooseFault(req.headers, ctx.fault);
  if (!fault.ok) return badHeader(exchange, fault.message, FAULT_HEADER);

  const bodyText = await readBody(req);
  const parsed = parseChatRequest(bodyText);
  if (!parsed.ok) return sendOpenAiError(exchange, { status: 400, body: parsed.error });
  const chat = parsed.request;
  const base: LatencyModel =
    chat.model === SIM_FAST_MODEL ? { ...ctx.latency, ttftMs: 0, itlMs: 0 } : ctx.latency;
  const latency = applyLatencyHeaders(base, req.headers);
  if (!latency.ok) return badHeader(exchange, latency.message, latency.header);

  const action = fault.fault && OPENAI_FAULTS[fault.fault](chat);
  if (action?.kind === 'respond') return sendOpenAiError(exchange, action.response);
  // A hung request keeps its connection open and is never answered; it ends when the client aborts
  // or the server closes.
  if (action?.kind === 'hang') return;

  let release: () => void;
  try {
    release = await ctx.slots.acquire(signal);
  } catch {
    return; // the client left while queued
  }
  try {
    // Seeded by the request itself, so the same conversation gets the same tool-call ids and jitter
    // however requests interleave.
    const random = mulberry32(hashString(bodyText, ctx.seed));
    const plan = planReply(chat.modelRequest);
    const output = renderOutput(plan, { maxTokens: chat.maxTokens, stop: chat.stop });
    const reply: StreamContext = {
      id: completionId(ctx.random),
      created: Math.floor(Date.now() / 1000),
      model: chat.model,
      includeUsage: chat.includeUsage,
      promptTokens: chat.promptTokens,
      toolCallIds: plan.toolCalls.map(() => toolCallId(random)),
    };
    const offsets = stepOffsets(latency.latency, output.pieces.length, random);
    const cut = action?.kind === 'cut';
    const chunks = chat.stream
      ? streamChunks(output, reply)
      : [{ data: JSON.stringify(chatCompletion(output, reply)), step: offsets.length - 1 }];
    const completed = chat.stream
      ? await sendStream(exchange, chunks, offsets, cut)
      : await sendCompletion(exchange, chunks[0]!, offsets, cut);
    if (completed) ctx.metrics.tokensCounted(chat.promptTokens, output.completionTokens);
  } finally {
    release();
  }
};

async function sendStream(
  { res, requestId, signal }: SimExchange,
  chunks: TimedChunk[],
  offsets: number[],
  cut: boolean,
): Promise<boolean> {
  const write = (data: string) => {
    if (!res.headersSent) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-request-id': requestId,
      });
    }
    res.write(data);
  };
  // A cut stream stops half-way, after at least the role chunk.
  const sent = cut ? chunks.slice(0, Math.max(1, Math.floor(chunks.length / 2))) : chunks;
  const finished = await writePaced(sent, offsets, write, signal);
  if (!finished) return false;
  if (cut) return cutConnection(res);
  res.end();
  return true;
}

/** Non-streamed replies still take the whole generation time before the body is sent. */
async function sendCompletion(
  { res, requestId, signal }: SimExchange,
  chunk: TimedChunk,
  offsets: number[],
  cut: boolean,
): Promise<boolean> {
  const write = (body: string) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-id': requestId,
    });
    // A cut reply announces the full length but delivers half of the body.
    if (cut) res.write(body.slice(0, Math.floor(body.length / 2)));
    else res.end(body);
  };
  const finished = await writePaced([chunk], offsets, write, signal);
  if (!finished) return false;
  return cut ? cutConnection(res) : true;
}

/**
 * Ends the TCP connection without finishing the HTTP message (no terminating chunk, or fewer bytes
 * than announced). `end()` rather than `destroy()` so the bytes already written are flushed first.
 */
function cutConnection(res: ServerResponse): false {
  res.socket?.end();
  return false;
}

function badHeader(exchange: SimExchange, message: string, header: string): void {
  sendOpenAiError(exchange, { status: 400, body: invalidRequest(message, header) });
}
