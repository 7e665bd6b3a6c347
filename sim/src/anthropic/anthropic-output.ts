import { type OutputPiece, renderOutput } from '../reply-output.ts';
import type { ReplyPlan } from '../rule-model.ts';
import { reasoningFor, type ThinkingMode, thinkingSignature } from './anthropic-thinking.ts';

/**
 * A plan as Anthropic content blocks: an optional thinking block, then text, then tool uses. Each
 * piece of a block is one decoding step; thinking counts against `max_tokens` as on the real API.
 * Built on the wire-neutral `renderOutput`, whose reasoning pieces become the thinking block.
 */
export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

export type ReplyBlock =
  | { type: 'thinking'; pieces: string[]; signature: string }
  | { type: 'text'; pieces: string[] }
  | { type: 'tool_use'; id: string; name: string; pieces: string[] };

export interface AnthropicReply {
  blocks: ReplyBlock[];
  stopReason: StopReason;
  stopSequence: string | null;
  outputTokens: number;
}

export interface ReplyOptions {
  maxTokens: number;
  stop: readonly string[];
  thinking: ThinkingMode;
  /** Ids of the plan's tool calls, in order. */
  toolIds: readonly string[];
}

export function buildReply(plan: ReplyPlan, options: ReplyOptions): AnthropicReply {
  // Claude only thinks when asked to; a plan's reasoning is dropped otherwise, and a thinking
  // request always gets a thinking block, even for a plan that brought none.
  const reasoning = options.thinking.enabled ? plan.reasoning || reasoningFor(plan) : undefined;
  const output = renderOutput(
    { ...plan, reasoning },
    { maxTokens: options.maxTokens, stop: options.stop },
  );
  const blocks: ReplyBlock[] = [];
  if (options.thinking.enabled) {
    const thought = output.pieces.flatMap((p) => (p.type === 'reasoning' ? [p.text] : []));
    const shown = options.thinking.omitted ? [] : thought;
    blocks.push({ type: 'thinking', pieces: shown, signature: thinkingSignature(shown.join('')) });
  }
  appendPieces(blocks, output.pieces, options.toolIds);
  const outputTokens = output.completionTokens;
  if (output.finishReason === 'length') {
    return { blocks, stopReason: 'max_tokens', stopSequence: null, outputTokens };
  }
  if (output.finishReason === 'tool_calls') {
    return { blocks, stopReason: 'tool_use', stopSequence: null, outputTokens };
  }
  const matched = firstStop(plan.text, options.stop);
  return {
    blocks,
    stopReason: matched === null ? 'end_turn' : 'stop_sequence',
    stopSequence: matched,
    outputTokens,
  };
}

/** The number of decoding steps (pieces) of a reply; the latency model paces them. */
export function stepCount(reply: AnthropicReply): number {
  return reply.blocks.reduce((n, block) => n + block.pieces.length, 0);
}

function appendPieces(
  blocks: ReplyBlock[],
  pieces: readonly OutputPiece[],
  toolIds: readonly string[],
): void {
  const tools = new Map<number, Extract<ReplyBlock, { type: 'tool_use' }>>();
  for (const piece of pieces) {
    if (piece.type === 'text') {
      const last = blocks.at(-1);
      if (last?.type === 'text') last.pieces.push(piece.text);
      else blocks.push({ type: 'text', pieces: [piece.text] });
    } else if (piece.type === 'tool_call_start') {
      const block = {
        type: 'tool_use' as const,
        id: toolIds[piece.index] ?? `toolu_sim_${piece.index}`,
        name: piece.name,
        pieces: [],
      };
      tools.set(piece.index, block);
      blocks.push(block);
    } else if (piece.type === 'tool_call_args') {
      tools.get(piece.index)?.pieces.push(piece.text);
    }
  }
}

/** The stop sequence that ended the text: the one matching earliest, as `renderOutput` cuts. */
function firstStop(text: string, stop: readonly string[]): string | null {
  let best: { at: number; sequence: string } | undefined;
  for (const sequence of stop) {
    const at = sequence === '' ? -1 : text.indexOf(sequence);
    if (at !== -1 && (best === undefined || at < best.at)) best = { at, sequence };
  }
  return best?.sequence ?? null;
}
