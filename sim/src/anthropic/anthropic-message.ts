import type { AnthropicReply, ReplyBlock } from './anthropic-output.ts';
import type { StreamContext } from './anthropic-stream-events.ts';

/**
 * The non-streamed `Message` for a reply. A tool input that is not a whole JSON object (cut by
 * `max_tokens` or the `truncated_tool_json` fault) is reported as `{}`, since the body can only
 * carry parsed input.
 */
export function fullMessage(reply: AnthropicReply, ctx: StreamContext) {
  return {
    id: ctx.id,
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content: reply.blocks.map(contentBlock),
    stop_reason: reply.stopReason,
    stop_sequence: reply.stopSequence,
    usage: {
      input_tokens: ctx.promptTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: reply.outputTokens,
    },
  };
}

function contentBlock(block: ReplyBlock) {
  const text = block.pieces.join('');
  switch (block.type) {
    case 'thinking':
      return { type: 'thinking', thinking: text, signature: block.signature };
    case 'text':
      return { type: 'text', text };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: parseInput(text) };
  }
}

function parseInput(json: string): unknown {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}
