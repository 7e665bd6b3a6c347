import type { TimedChunk } from '../paced-writer.ts';
import type { FinishReason, OutputPiece, ReplyOutput } from '../reply-output.ts';
import { SYSTEM_FINGERPRINT } from './openai-ids.ts';
import { usage } from './openai-usage.ts';

/**
 * Turns a reply into the exact SSE events OpenAI streams for it:
 *   role chunk → one chunk per word or argument fragment → finish chunk → usage chunk → [DONE].
 * A tool call's first chunk carries its id, type, name and empty arguments; later ones only the
 * index and an arguments fragment. When the reply opens with a tool call, OpenAI folds that first
 * call into the role chunk with `content: null` instead of `content: ""`, and so does the sim.
 */
export interface StreamContext {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  promptTokens: number;
  toolCallIds: readonly string[];
}

interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

interface Delta {
  role?: 'assistant';
  content?: string | null;
  tool_calls?: ToolCallDelta[];
  refusal?: null;
}

export function streamChunks(output: ReplyOutput, ctx: StreamContext): TimedChunk[] {
  // Every chunk shares its envelope, so it is serialized once and only the delta per chunk: this
  // keeps a 300-chunk stream well under a millisecond and gives the same bytes as stringifying
  // each whole object (same key order).
  const head = `data: {"id":${JSON.stringify(ctx.id)},"object":"chat.completion.chunk","created":${ctx.created},"model":${JSON.stringify(ctx.model)},"service_tier":"default","system_fingerprint":"${SYSTEM_FINGERPRINT}","choices":[{"index":0,"delta":`;
  const usageNull = ctx.includeUsage ? ',"usage":null' : '';
  const tail = `,"logprobs":null,"finish_reason":null}]${usageNull}}\n\n`;
  const chunk = (delta: Delta, step: number): TimedChunk => ({
    data: head + JSON.stringify(delta) + tail,
    step,
  });

  const { pieces } = output;
  const chunks: TimedChunk[] = [];
  const first = pieces[0];
  if (first?.type === 'tool_call_start') {
    chunks.push(
      chunk(
        { role: 'assistant', content: null, tool_calls: [callStart(first, ctx)], refusal: null },
        0,
      ),
    );
  } else {
    chunks.push(chunk({ role: 'assistant', content: '', refusal: null }, 0));
    if (first) chunks.push(chunk(pieceDelta(first, ctx), 0));
  }
  for (let step = 1; step < pieces.length; step++)
    chunks.push(chunk(pieceDelta(pieces[step]!, ctx), step));

  const last = Math.max(pieces.length - 1, 0);
  chunks.push({ data: finishChunk(head, output.finishReason, usageNull), step: last });
  if (ctx.includeUsage) chunks.push({ data: usageChunk(output, ctx), step: last });
  chunks.push({ data: 'data: [DONE]\n\n', step: last });
  return chunks;
}

function pieceDelta(piece: OutputPiece, ctx: StreamContext): Delta {
  switch (piece.type) {
    case 'text':
      return { content: piece.text };
    case 'tool_call_start':
      return { tool_calls: [callStart(piece, ctx)] };
    case 'tool_call_args':
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
    function: { name: piece.name, arguments: '' },
  };
}

function finishChunk(head: string, reason: FinishReason, usageNull: string): string {
  return `${head}{},"logprobs":null,"finish_reason":"${reason}"}]${usageNull}}\n\n`;
}

function usageChunk(output: ReplyOutput, ctx: StreamContext): string {
  const body = {
    id: ctx.id,
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.model,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [],
    usage: usage(ctx.promptTokens, output.completionTokens),
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}
