import type { ReplyPlan } from './rule-model.ts';
import { countTokens, splitWords } from './tokenizer.ts';

/**
 * What a plan becomes on the wire, independent of the wire API: the sequence of pieces a model would
 * emit one decoding step each, cut by the request's stop sequences and token budget. Each wire API
 * turns pieces into its own events; the latency model paces them one step apart.
 */
export type OutputPiece =
  | { type: 'text'; text: string }
  | { type: 'tool_call_start'; index: number; name: string }
  | { type: 'tool_call_args'; index: number; text: string };

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface ReplyOutput {
  pieces: OutputPiece[];
  finishReason: FinishReason;
  completionTokens: number;
}

export interface OutputLimits {
  /** Completion token budget; the reply stops at the last whole piece that fits. */
  maxTokens?: number;
  stop?: readonly string[];
}

export function renderOutput(plan: ReplyPlan, limits: OutputLimits = {}): ReplyOutput {
  const { text, stopped } = cutAtStop(plan.text, limits.stop ?? []);
  const pieces: OutputPiece[] = splitWords(text).map((word) => ({ type: 'text', text: word }));
  // A stop sequence ends the reply where it matched, so nothing after it (no tool call) is emitted.
  if (!stopped) {
    plan.toolCalls.forEach((call, index) => {
      pieces.push({ type: 'tool_call_start', index, name: call.name });
      for (const fragment of fragments(call.arguments)) {
        pieces.push({ type: 'tool_call_args', index, text: fragment });
      }
    });
  }

  const budget = limits.maxTokens ?? Number.POSITIVE_INFINITY;
  let completionTokens = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    const cost = countTokens(piece.type === 'tool_call_start' ? piece.name : piece.text);
    if (completionTokens + cost > budget) {
      return { pieces: pieces.slice(0, i), finishReason: 'length', completionTokens };
    }
    completionTokens += cost;
  }
  const finishReason = !stopped && plan.toolCalls.length > 0 ? 'tool_calls' : 'stop';
  return { pieces, finishReason, completionTokens };
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
