import type { LogEntry } from './log-entry.ts';

export type DerivedHead = {
  lastSeq: number;
  /** The highest fencing epoch that wrote any entry. */
  epoch: number;
  inputSeq: number;
  doneInputSeq: number;
  /** Every input's text as the log recorded it, by input seq. */
  inputs: Map<number, { text: string; at: number }>;
};

/**
 * What Redis knew about a session's inputs, recovered from its log alone: each input is recorded
 * as a `user_message`, and a turn ended when its last entry is an answer without tool calls, an
 * error or an interruption. A turn cut short by the loss is left pending, so that a worker resumes
 * it from its last committed step like after any crash.
 */
export function headFromLog(entries: readonly LogEntry[]): DerivedHead {
  const inputs = new Map<number, { text: string; at: number }>();
  let epoch = 0;
  for (const entry of entries) {
    epoch = Math.max(epoch, entry.epoch);
    if (entry.kind === 'user_message' && !entry.steer && entry.inputSeq > 0) {
      inputs.set(entry.inputSeq, { text: entry.text, at: entry.at });
    }
  }
  let inputSeq = 0;
  for (const seq of inputs.keys()) inputSeq = Math.max(inputSeq, seq);
  const last = entries.at(-1);
  const finished = last === undefined || endsTurn(last);
  return {
    lastSeq: last?.seq ?? 0,
    epoch,
    inputSeq,
    doneInputSeq: finished ? inputSeq : Math.max(0, inputSeq - 1),
    inputs,
  };
}

function endsTurn(entry: LogEntry): boolean {
  switch (entry.kind) {
    case 'assistant_message':
      return entry.toolCalls.length === 0 && entry.finishReason !== 'tool_calls';
    case 'error':
    case 'interrupted':
      return true;
    default:
      return false;
  }
}
