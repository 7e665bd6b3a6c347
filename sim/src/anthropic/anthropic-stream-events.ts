import type { TimedChunk } from '../paced-writer.ts';
import { type AnthropicErrorObject, streamErrorData } from './anthropic-errors.ts';
import { type AnthropicReply, type ReplyBlock, stepCount } from './anthropic-output.ts';

/**
 * Turns a reply into the exact SSE events the Messages API streams for it:
 *   message_start → per block: content_block_start, deltas, content_block_stop → message_delta →
 *   message_stop, with a `ping` after the first block start.
 * Every event has an `event:` line (the SDK drops data-only events). Each delta is due at its
 * piece's decoding step; a block's start and stop travel with its first and last pieces.
 */
export interface StreamContext {
  id: string;
  model: string;
  promptTokens: number;
}

export interface StreamOptions {
  /** Ends the stream with an `event: error` after this many pieces (the `stream_error` fault). */
  errorAfter?: { pieces: number; error: AnthropicErrorObject };
}

/** The real API writes this one event with Python's spacing; the bytes are kept. */
const PING = 'event: ping\ndata: {"type": "ping"}\n\n';

export function streamEvents(
  reply: AnthropicReply,
  ctx: StreamContext,
  options: StreamOptions = {},
): TimedChunk[] {
  const last = Math.max(stepCount(reply) - 1, 0);
  const chunks: TimedChunk[] = [];
  const emit = (name: string, data: unknown, step: number) =>
    chunks.push({ data: sse(name, JSON.stringify(data)), step: Math.min(step, last) });
  const fail = options.errorAfter;
  const failure = (step: number) =>
    chunks.push({ data: sse('error', streamErrorData(fail!.error)), step: Math.min(step, last) });

  emit('message_start', { type: 'message_start', message: startMessage(ctx) }, 0);
  /** Step of the next piece to stream. */
  let next = 0;
  for (let index = 0; index < reply.blocks.length; index++) {
    const block = reply.blocks[index]!;
    emit(
      'content_block_start',
      { type: 'content_block_start', index, content_block: opening(block) },
      next,
    );
    if (index === 0) chunks.push({ data: PING, step: 0 });
    // The API opens every tool input with an empty fragment.
    if (block.type === 'tool_use') emit('content_block_delta', delta(index, block, ''), next);
    for (const piece of block.pieces) {
      if (fail && next >= fail.pieces) {
        failure(next);
        return chunks;
      }
      emit('content_block_delta', delta(index, block, piece), next);
      next++;
    }
    const end = block.pieces.length > 0 ? next - 1 : next;
    if (block.type === 'thinking') {
      const signature = { type: 'signature_delta', signature: block.signature };
      emit('content_block_delta', { type: 'content_block_delta', index, delta: signature }, end);
    }
    emit('content_block_stop', { type: 'content_block_stop', index }, end);
  }
  if (reply.blocks.length === 0) chunks.push({ data: PING, step: 0 });
  if (fail) {
    failure(last);
    return chunks;
  }
  emit(
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: reply.stopReason, stop_sequence: reply.stopSequence },
      usage: { output_tokens: reply.outputTokens },
    },
    last,
  );
  emit('message_stop', { type: 'message_stop' }, last);
  return chunks;
}

export function sse(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}

function startMessage(ctx: StreamContext) {
  return {
    id: ctx.id,
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      input_tokens: ctx.promptTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 1,
    },
  };
}

function opening(block: ReplyBlock) {
  switch (block.type) {
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'text':
      return { type: 'text', text: '' };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: {} };
  }
}

function delta(index: number, block: ReplyBlock, piece: string) {
  const body =
    block.type === 'thinking'
      ? { type: 'thinking_delta', thinking: piece }
      : block.type === 'text'
        ? { type: 'text_delta', text: piece }
        : { type: 'input_json_delta', partial_json: piece };
  return { type: 'content_block_delta', index, delta: body };
}
