import { piecesBeforeStreamError } from '../fault-plan.ts';
import { acquireGeneration } from '../generation.ts';
import { readBody } from '../http-io.ts';
import { applyLatencyHeaders } from '../latency.ts';
import { type StepTimes, type TimedChunk, writePaced } from '../paced-writer.ts';
import { hashString, mulberry32 } from '../random.ts';
import { renderOutput } from '../reply-output.ts';
import { planFor } from '../reply-planner.ts';
import type { ReplyPlan } from '../rule-model.ts';
import type { RouteHandler, SimExchange } from '../sim-context.ts';
import { checkGeminiKey } from './gemini-auth.ts';
import {
  GOOGLE_HEADERS,
  GOOGLE_JSON,
  googleError,
  invalidArgument,
  sendGeminiError,
} from './gemini-errors.ts';
import { GEMINI_FAULTS, type GeminiFaultAction } from './gemini-faults.ts';
import { responseId } from './gemini-ids.ts';
import { prettyGoogleJson } from './gemini-json.ts';
import { GEMINI_SIM_FAST_MODEL } from './gemini-models.ts';
import { draftReply } from './gemini-reply-draft.ts';
import { type GeminiRequest, parseGeminiRequest } from './gemini-request.ts';
import { jsonArrayChunks, sseChunks, sseEvent, wholeResponse } from './gemini-wire-chunks.ts';

/** Gemini streams text a few words per event, not token by token. */
const WORDS_PER_CHUNK = 3;
const REPLY: GeminiFaultAction = { kind: 'reply' };
const METHOD = /^\/v1beta\/models\/([^/:]+):(streamGenerateContent|generateContent)$/;

/**
 * `POST /v1beta/models/{model}:streamGenerateContent` (SSE with `?alt=sse`, as the SDK asks,
 * else a streamed JSON array) and `:generateContent`. Checks run in the API's order (key, then
 * body), then the plan and fault are chosen (scenario or rule model), then the request waits for a
 * generation slot and its reply is paced by the latency model. Any model name is served;
 * `tern-sim-fast` ignores the server's TTFT and ITL.
 */
export const handleGeminiModelMethod: RouteHandler = async (exchange) => {
  const { req, ctx } = exchange;
  const url = new URL(req.url ?? '/', 'http://sim');
  const method = METHOD.exec(url.pathname);
  if (!method) return sendGeminiError(exchange, notFound(url.pathname));
  const model = decodeURIComponent(method[1] ?? '');
  const stream = method[2] === 'streamGenerateContent';
  const denied = checkGeminiKey(req);
  if (denied) return sendGeminiError(exchange, denied);

  const bodyText = await readBody(req);
  const parsed = parseGeminiRequest(bodyText);
  if (!parsed.ok) return sendGeminiError(exchange, parsed.error);
  const request = parsed.request;
  const choice = planFor(request.modelRequest, req.headers, ctx);
  if (!choice.ok) return sendGeminiError(exchange, invalidArgument(choice.message));
  const routeLatency = ctx.routeLatency.gemini;
  const base =
    model === GEMINI_SIM_FAST_MODEL ? { ...routeLatency, ttftMs: 0, itlMs: 0 } : routeLatency;
  const latency = applyLatencyHeaders(base, req.headers, choice.fault);
  if (!latency.ok) return sendGeminiError(exchange, invalidArgument(latency.message));

  const faultContext = { model, promptTokens: request.promptTokens };
  const action = choice.fault ? GEMINI_FAULTS[choice.fault](faultContext) : REPLY;
  if (action.kind === 'respond') return sendGeminiError(exchange, action.response);
  // A hung request keeps its connection open and is never answered; it ends when the client
  // aborts or the server closes.
  if (action.kind === 'hang') return;
  // Without a stream there is nowhere to fail half-way: the error is the whole answer.
  if (action.kind === 'stream_error' && !stream) return sendGeminiError(exchange, action.response);

  // Seeded by the request itself, so the same conversation gets the same jitter however requests
  // interleave.
  const random = mulberry32(hashString(bodyText, ctx.seed));
  const plan = forceCall(choice.plan, request);
  const output = renderOutput(plan, {
    maxTokens: request.maxOutputTokens,
    stop: request.stop,
    wholeArguments: true,
  });
  const draft = draftReply(output, plan, {
    thinking: request.thinking,
    includeThoughts: request.includeThoughts,
    // One piece per event under `slow_drip`, so every event waits the whole pause.
    wordsPerChunk: choice.fault === 'slow_drip' ? 1 : WORDS_PER_CHUNK,
  });
  const generation = await acquireGeneration(
    exchange,
    latency.latency,
    random,
    request.promptTokens,
  );
  if (!generation) return; // the client left while queued
  try {
    const envelope = {
      model,
      responseId: responseId(ctx.random),
      promptTokens: request.promptTokens,
    };
    const ending: Ending = { cut: action.kind === 'cut' };
    if (action.kind === 'stream_error') {
      ending.error = {
        afterPieces: piecesBeforeStreamError(output.pieces),
        event: sseEvent(action.response.body),
      };
    }
    const lastStep = Math.max(output.pieces.length - 1, 0);
    const sse = stream && url.searchParams.get('alt') === 'sse';
    const chunks = sse
      ? sseChunks(draft, envelope)
      : stream
        ? jsonArrayChunks(draft, envelope)
        : [{ data: prettyGoogleJson(wholeResponse(draft, envelope)), step: lastStep }];
    const completed = await send(exchange, chunks, generation.dueAt, ending, sse);
    if (completed) generation.completed(request.promptTokens, output.completionTokens);
  } finally {
    generation.release();
  }
};

/** `mode: ANY` forbids a text answer: the sim then calls the first allowed function. */
function forceCall(plan: ReplyPlan, request: GeminiRequest): ReplyPlan {
  const name = request.modelRequest.toolNames[0];
  if (!request.forceCall || plan.toolCalls.length > 0 || name === undefined) return plan;
  return { ...plan, text: '', toolCalls: [{ name, arguments: '{}' }] };
}

/** How a paced reply leaves: whole, cut off, or broken by an in-stream error. */
interface Ending {
  cut: boolean;
  error?: { afterPieces: number; event: string };
}

async function send(
  { res, signal }: SimExchange,
  chunks: TimedChunk[],
  dueAt: StepTimes,
  ending: Ending,
  sse: boolean,
): Promise<boolean> {
  const write = (data: string) => {
    if (!res.headersSent) {
      res.writeHead(
        200,
        sse
          ? {
              ...GOOGLE_HEADERS,
              'content-type': 'text/event-stream',
              'content-disposition': 'attachment',
            }
          : { ...GOOGLE_HEADERS, 'content-type': GOOGLE_JSON },
      );
    }
    res.write(data);
  };
  const sent = ending.error
    ? beforeError(chunks, ending.error)
    : ending.cut
      ? halfOf(chunks)
      : chunks;
  const finished = await writePaced(sent, dueAt, write, signal);
  if (!finished) return false;
  // Ends the TCP connection without finishing the HTTP message (no terminating chunk); `end()`
  // rather than `destroy()` so the bytes already written are flushed first.
  if (ending.cut) {
    res.socket?.end();
    return false;
  }
  res.end();
  return !ending.error;
}

/** The events wholly generated before the error's piece, at least one when there are several. */
function beforeError(chunks: TimedChunk[], error: NonNullable<Ending['error']>): TimedChunk[] {
  let sent = chunks.filter((c) => c.step < error.afterPieces);
  if (sent.length === 0 && chunks.length > 1) sent = chunks.slice(0, 1);
  return [...sent, { data: error.event, step: sent.at(-1)?.step ?? 0 }];
}

/** A cut stream stops half-way, after at least one event; a cut body delivers half its bytes. */
function halfOf(chunks: TimedChunk[]): TimedChunk[] {
  if (chunks.length > 1) return chunks.slice(0, Math.max(1, Math.floor(chunks.length / 2)));
  const whole = chunks[0];
  return whole ? [{ ...whole, data: whole.data.slice(0, Math.floor(whole.data.length / 2)) }] : [];
}

function notFound(path: string) {
  return googleError(404, 'NOT_FOUND', `Method not found: ${path}.`);
}
