import type { TimedChunk } from '../paced-writer.ts';
import type { OutputPiece, ReplyOutput } from '../reply-output.ts';
import { dialectFinish, type OpenAiDialect } from './openai-dialect.ts';
import { SYSTEM_FINGERPRINT } from './openai-ids.ts';
import { usage } from './openai-usage.ts';

/**
 * Turns a reply into the exact SSE events the dialect's server streams for it:
 *   role chunk → one chunk per word or argument fragment → finish chunk → usage chunk → [DONE].
 * A tool call's first chunk carries its id, type and name; later ones only the index and an
 * arguments fragment. When the reply opens with a tool call, OpenAI folds that first call into the
 * role chunk with `content: null` instead of `content: ""`; vLLM sends the role chunk on its own.
 */
export interface StreamContext {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  promptTokens: number;
  toolCallIds: readonly string[];
  dialect: OpenAiDialect;
}

/** Ends the stream early with an error event after `afterPieces` pieces (`stream_error`). */
export interface StreamError {
  afterPieces: number;
  body: unknown;
}

interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments?: string };
}

type Delta = {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string;
  reasoning?: string;
  tool_calls?: ToolCallDelta[];
  refusal?: null;
};

export function streamChunks(
  output: ReplyOutput,
  ctx: StreamContext,
  error?: StreamError,
): TimedChunk[] {
  const vllm = ctx.dialect.envelope === 'vllm';
  // Every chunk shares its envelope, so it is serialized once and only the delta per chunk: this
  // keeps a 300-chunk stream well under a millisecond and gives the same bytes as stringifying
  // each whole object (same key order).
  const openAiFields = vllm
    ? ''
    : `,"service_tier":"default","system_fingerprint":"${SYSTEM_FINGERPRINT}"`;
  const head = `data: {"id":${JSON.stringify(ctx.id)},"object":"chat.completion.chunk","created":${ctx.created},"model":${JSON.stringify(ctx.model)}${openAiFields},"choices":[{"index":0,"delta":`;
  // vLLM leaves `usage` out of content chunks; OpenAI sends `null` once usage was asked for.
  const usageNull = ctx.includeUsage && !vllm ? ',"usage":null' : '';
  const tail = `,"logprobs":null,"finish_reason":null}]${usageNull}}\n\n`;
  const chunk = (delta: Delta, step: number): TimedChunk => ({
    data: head + JSON.stringify(delta) + tail,
    step,
  });

  const sent = error ? output.pieces.slice(0, error.afterPieces) : output.pieces;
  const chunks: TimedChunk[] = [];
  const first = sent[0];
  if (first?.type === 'tool_call_start' && !vllm) {
    chunks.push(
      chunk(
        { role: 'assistant', content: null, tool_calls: [callStart(first, ctx)], refusal: null },
        0,
      ),
    );
  } else {
    chunks.push(chunk(vllm ? { role: 'assistant', content: '' } : roleDelta(), 0));
    const delta = first && pieceDelta(first, ctx);
    if (delta) chunks.push(chunk(delta, 0));
  }
  for (let step = 1; step < sent.length; step++) {
    const delta = pieceDelta(sent[step]!, ctx);
    if (delta) chunks.push(chunk(delta, step));
  }

  if (error) {
    const step = Math.min(sent.length, Math.max(output.pieces.length - 1, 0));
    chunks.push({ data: `data: ${JSON.stringify(error.body)}\n\n`, step });
    // vLLM's generator still ends with [DONE] after its error event; OpenAI just closes.
    if (vllm) chunks.push({ data: 'data: [DONE]\n\n', step });
    return chunks;
  }

  const last = Math.max(sent.length - 1, 0);
  const reason = dialectFinish(ctx.dialect, output.finishReason);
  const finishTail = vllm ? `,"stop_reason":null}]}` : `}]${usageNull}}`;
  chunks.push({
    data: `${head}{},"logprobs":null,"finish_reason":"${reason}"${finishTail}\n\n`,
    step: last,
  });
  if (ctx.includeUsage) chunks.push({ data: usageChunk(output, ctx), step: last });
  chunks.push({ data: 'data: [DONE]\n\n', step: last });
  return chunks;
}

function roleDelta(): Delta {
  return { role: 'assistant', content: '', refusal: null };
}

/** undefined for a piece the dialect does not send (the empty arguments of some vLLM parsers). */
function pieceDelta(piece: OutputPiece, ctx: StreamContext): Delta | undefined {
  switch (piece.type) {
    case 'reasoning':
      return { [ctx.dialect.reasoningField]: piece.text };
    case 'text':
      return { content: piece.text };
    case 'tool_call_start':
      return { tool_calls: [callStart(piece, ctx)] };
    case 'tool_call_args':
      if (ctx.dialect.omitEmptyArguments && /^\{\s*\}$/.test(piece.text)) return undefined;
      return { tool_calls: [{ index: piece.index, function: { arguments: piece.text } }] };
  }
}

function callStart(
  piece: Extract<OutputPiece, { type: 'tool_call_start' }>,
  ctx: StreamContext,
): ToolCallDelta {
  return {
    index: piece.index,
    id: ctx.toolCallIds[piece.index] ?? '',
    type: 'function',
    // vLLM's parsers send the name alone (`model_dump(exclude_none=True)`).
    function:
      ctx.dialect.envelope === 'vllm' ? { name: piece.name } : { name: piece.name, arguments: '' },
  };
}

function usageChunk(output: ReplyOutput, ctx: StreamContext): string {
  const vllm = ctx.dialect.envelope === 'vllm';
  const body = {
    id: ctx.id,
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.model,
    ...(vllm ? {} : { service_tier: 'default', system_fingerprint: SYSTEM_FINGERPRINT }),
    choices: [],
    usage: usage(ctx.dialect, ctx.promptTokens, output.completionTokens, output.reasoningTokens),
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}
