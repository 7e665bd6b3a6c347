import type { LogEntry } from '@tern/shared/session/log-entry';
import { budgetCodes } from '../agent/turn-log.ts';

/**
 * How a target's turn ended, read from the session log the way the agent loop itself reads it
 * (turn-log.ts): the turn's last entry says. A budget stop is an `error` entry with one of the
 * loop's budget codes; any other `error` entry is a model, tool, hook or workspace failure; an
 * `interrupted` entry is a cancel; an answer without tool calls is the model being done.
 */
export type TurnOutcome =
  | { kind: 'done' }
  | { kind: 'budget'; code: string; message: string }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'cancelled' }
  /** A tool call waits for a human: no one answers in a batch. */
  | { kind: 'awaiting_approval' }
  /** The log does not show the turn's end (it was never run, or the log was cut). */
  | { kind: 'unknown' };

export function turnOutcome(entries: readonly LogEntry[], turnId: string): TurnOutcome {
  const last = entries.findLast((e) => e.turnId === turnId && e.kind !== 'approval_decided');
  switch (last?.kind) {
    case 'error':
      return budgetCodes.has(last.code)
        ? { kind: 'budget', code: last.code, message: last.message }
        : { kind: 'error', code: last.code, message: last.message };
    case 'interrupted':
      return { kind: 'cancelled' };
    case 'approval_requested':
      return { kind: 'awaiting_approval' };
    case 'assistant_message':
      return last.toolCalls.length === 0 ? { kind: 'done' } : { kind: 'unknown' };
    default:
      return { kind: 'unknown' };
  }
}
