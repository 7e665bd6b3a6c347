import type { SimFault } from './faults.ts';
import type { OutputPiece } from './reply-output.ts';
import type { PlannedToolCall, ReplyPlan } from './rule-model.ts';

/**
 * The wire-neutral half of the faults that change what the model says rather than how the
 * transport fails. Each wire only decides how the result looks in its dialect.
 */

/** Applies the plan-level faults; the others leave the plan alone. */
export function applyPlanFault(
  plan: ReplyPlan,
  fault: SimFault | undefined,
  toolNames: readonly string[],
): ReplyPlan {
  return fault === 'truncated_tool_json' ? truncateToolArguments(plan, toolNames) : plan;
}

/**
 * `truncated_tool_json`: every call's argument JSON stops half-way, and the reply still finishes
 * as a normal tool call (unlike `max_tokens`, which finishes with `length`): the case a client must
 * catch by parsing, since no finish reason warns it. A plan without calls gets one, to the first
 * offered tool, so the fault shows whatever the conversation.
 */
export function truncateToolArguments(plan: ReplyPlan, toolNames: readonly string[]): ReplyPlan {
  const calls: PlannedToolCall[] =
    plan.toolCalls.length > 0
      ? plan.toolCalls
      : [{ name: toolNames[0] ?? 'read_file', arguments: JSON.stringify({ path: 'README.md' }) }];
  return {
    ...plan,
    toolCalls: calls.map((call) => ({ ...call, arguments: cutJson(call.arguments) })),
    finish: 'tool_calls',
  };
}

/** Half of the text, and never less than one character short of it, so it cannot parse. */
function cutJson(args: string): string {
  const text = args.length < 2 ? '{"' : args;
  return text.slice(0, Math.max(1, Math.min(Math.floor(text.length / 2), text.length - 1)));
}

/** `stream_error` sends this many pieces (fewer for a shorter reply) before the error. */
export const STREAM_ERROR_AFTER_PIECES = 3;

/** How many of a reply's pieces go out before a `stream_error`: some, never all. */
export function piecesBeforeStreamError(pieces: readonly OutputPiece[]): number {
  return Math.min(STREAM_ERROR_AFTER_PIECES, Math.floor(pieces.length / 2));
}
