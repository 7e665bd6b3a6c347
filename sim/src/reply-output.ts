import type { PlannedFinish, ReplyPlan } from './rule-model.ts';
import { countTokens, splitWords } from './tokenizer.ts';

/**
 * What a plan becomes on the wire, independent of the wire API: the sequence of pieces a model would
 * emit one decoding step each, cut by the request's stop sequences and token budget. Each wire API
 * turns pieces into its own events; the latency model paces them one step apart. Reasoning comes
 * first, as every provider streams thinking before the answer.
 */
export type OutputPiece =
  | { type: 'reasoning'; text: string }
  | { type: 'text'; text: string }
  | { type: 'tool_call_start'; index: number; name: string }
  | { type: 'tool_call_args'; index: number; text: string };

export type FinishReason = PlannedFinish;

export interface ReplyOutput {
  pieces: OutputPiece[];
  finishReason: FinishReason;
  /** Every emitted piece, reasoning included (providers bill thinking as output). */
  completionTokens: number;
  /** The reasoning part of `completionTokens`. */
  reasoningTokens: number;
}

export interface OutputLimits {
  /** Completion token budget; the reply stops at the last whole piece that fits. */
  maxTokens?: number;
  stop?: readonly string[];
  /**
   * Each call's arguments as one piece instead of three fragments: Gemini sends calls whole, and
   * some vLLM tool parsers send all arguments in one delta.
   */
  wholeArguments?: boolean;
}

export function renderOutput(plan: ReplyPlan, limits: OutputLimits = {}): ReplyOutput {
  const pieces: OutputPiece[] = splitWords(plan.reasoning ?? '').map((word) => ({
    type: 'reasoning',
    text: word,
  }));
  // Stop sequences match the answer only: providers do not apply them to thinking.
  const { text, stopped } = cutAtStop(plan.text, limits.stop ?? []);
  for (const word of splitWords(text)) pieces.push({ type: 'text', text: word });
  // A stop sequence ends the reply where it matched, so nothing after it (no tool call) is emitted.
  if (!stopped) {
    plan.toolCalls.forEach((call, index) => {
      pieces.push({ type: 'tool_call_start', index, name: call.name });
      const parts = limits.wholeArguments
        ? [call.arguments].filter((a) => a !== '')
        : fragments(call.arguments);
      for (const part of parts) pieces.push({ type: 'tool_call_args', index, text: part });
    });
  }

  const budget = limits.maxTokens ?? Number.POSITIVE_INFINITY;
  let completionTokens = 0;
  let reasoningTokens = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    const cost = countTokens(piece.type === 'tool_call_start' ? piece.name : piece.text);
    if (completionTokens + cost > budget) {
      return {
        pieces: pieces.slice(0, i),
        finishReason: 'length',
        completionTokens,
        reasoningTokens,
      };
    }
    completionTokens += cost;
    if (piece.type === 'reasoning') reasoningTokens += cost;
  }
  const natural = !stopped && plan.toolCalls.length > 0 ? 'tool_calls' : 'stop';
  const finishReason = stopped ? 'stop' : (plan.finish ?? natural);
  return { pieces, finishReason, completionTokens, reasoningTokens };
}

function cutAtStop(text: string, stop: readonly string[]): { text: string; stopped: boolean } {
  let end = -1;
  for (const s of stop) {
    const at = s === '' ? -1 : text.indexOf(s);
    if (at !== -1 && (end === -1 || at < end)) end = at;
  }
  return end === -1 ? { text, stopped: false } : { text: text.slice(0, end), stopped: true };
}

/** Splits argument JSON into three fragments (fewer when too short) to exercise delta assembly. */
export function fragments(args: string): string[] {
  if (args.length < 3) return args === '' ? [] : [args];
  const a = Math.floor(args.length / 3);
  const b = Math.floor((2 * args.length) / 3);
  return [args.slice(0, a), args.slice(a, b), args.slice(b)];
}
