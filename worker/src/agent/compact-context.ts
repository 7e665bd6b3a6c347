import type { LlmMessage } from '@tern/shared/llm/llm-types';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { PromptBuilder } from './history-to-messages.ts';
import { streamAnswer } from './stream-answer.ts';
import { addUsage, type LogOf } from './turn-log.ts';
import type { TurnRun } from './turn-run.ts';

const DEFAULT_KEEP_STEPS = 2;
/** Tool output beyond this is cut in the summarising request; the summary needs the gist. */
const RESULT_CHARS = 2_000;

const SUMMARY_INSTRUCTIONS =
  'You condense the earlier part of a coding agent’s conversation so the agent can continue ' +
  'with less context. Keep the user’s requests and constraints (the latest request verbatim), ' +
  'decisions made, files and facts learned, commands run and their outcomes, and what remains ' +
  'to do. Plain prose and short lists, no preamble.';

export type CompactionRange = {
  /** The entries to summarise, preceded by the previous compaction when there is one. */
  entries: LogEntry[];
  fromSeq: number;
  toSeq: number;
};

/**
 * Picks what to summarise: everything the prompt currently shows except the last `keep` model
 * steps (each with the user messages right before it), keeping fewer steps when that leaves
 * nothing older. Cuts fall just before a model answer, never between a call and its result.
 */
export function compactionRange(log: readonly LogEntry[], keep: number): CompactionRange | null {
  let previous: LogOf<'compaction'> | undefined;
  for (let i = log.length - 1; i >= 0 && !previous; i--) {
    const entry = log[i]!;
    if (entry.kind === 'compaction') previous = entry;
  }
  const after = previous?.toSeq ?? 0;
  let first = log.length;
  while (first > 0 && log[first - 1]!.seq > after) first -= 1;
  const visible = log.slice(first).filter((e) => e.kind !== 'compaction');
  const answers: number[] = [];
  visible.forEach((entry, i) => {
    const failed = entry.kind === 'assistant_message' && entry.finishReason === 'error';
    if (entry.kind === 'assistant_message' && !failed && entry.finishReason !== 'aborted') {
      answers.push(i);
    }
  });
  for (let k = Math.min(keep, answers.length); k >= 0; k--) {
    let cut = k === 0 ? visible.length : answers[answers.length - k]!;
    while (cut > 0 && visible[cut - 1]!.kind === 'user_message') cut -= 1;
    if (cut === 0) continue;
    const range = visible.slice(0, cut);
    return {
      entries: previous ? [previous, ...range] : range,
      fromSeq: previous?.fromSeq ?? range[0]!.seq,
      toSeq: range.at(-1)!.seq,
    };
  }
  return null;
}

/**
 * Summarises older steps through the model itself (no tools) and commits a `compaction` entry;
 * the prompt is rebuilt from it on the next call.
 */
export async function compactContext(
  run: TurnRun,
): Promise<{ ok: true } | { ok: false; message: string }> {
  const { io, input } = run;
  // The turn's first entries may still be placeholders; the range needs their sequence numbers.
  await run.settled();
  run.machine.to('compacting');
  const range = compactionRange(run.log, input.compactKeepSteps ?? DEFAULT_KEEP_STEPS);
  if (!range) return { ok: false, message: 'there is nothing older to summarise' };
  const transcript = renderTranscript(new PromptBuilder('').build(range.entries));
  const answer = await streamAnswer(
    io,
    {
      model: input.model,
      messages: [
        { role: 'system', content: SUMMARY_INSTRUCTIONS },
        { role: 'user', content: transcript },
      ],
      signal: run.signal,
      ...(input.modelTimeoutMs ? { timeoutMs: input.modelTimeoutMs } : {}),
      ...(input.headers ? { headers: input.headers } : {}),
    },
    { turnId: input.turnId, live: false, onFirstOutput: () => {} },
  );
  addUsage(run.usage, answer.usage);
  if (answer.reason === 'error' || answer.reason === 'aborted') {
    return {
      ok: false,
      message: answer.error?.message ?? `the summary ended with ${answer.reason}`,
    };
  }
  if (answer.text.trim() === '') return { ok: false, message: 'the summary came back empty' };
  await run.commit(
    [
      {
        kind: 'compaction',
        summary: answer.text.trim(),
        fromSeq: range.fromSeq,
        toSeq: range.toSeq,
        usage: answer.usage,
      },
    ],
    false,
  );
  return { ok: true };
}

/** The older conversation as plain text: no tool-call structure for the provider to reject. */
export function renderTranscript(messages: readonly LlmMessage[]): string {
  const lines: string[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        break;
      case 'user':
        lines.push(`User: ${message.content}`);
        break;
      case 'assistant':
        for (const part of message.content) {
          if (part.type === 'text') lines.push(`Assistant: ${part.text}`);
          if (part.type === 'tool_call') {
            lines.push(`Assistant called ${part.name}(${JSON.stringify(part.args)})`);
          }
        }
        break;
      case 'tool': {
        const cut = message.content.length > RESULT_CHARS;
        const text = cut ? `${message.content.slice(0, RESULT_CHARS)} […]` : message.content;
        lines.push(`Result of ${message.toolName}${message.isError ? ' (error)' : ''}: ${text}`);
        break;
      }
    }
  }
  return `Summarise this conversation:\n\n${lines.join('\n\n')}`;
}
