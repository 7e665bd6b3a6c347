import type { AssistantPart, LlmMessage } from '@tern/shared/llm/llm-types';
import type { LogEntry } from '@tern/shared/session/log-entry';

export const INTERRUPTED_RESULT = 'No result: the tool call was interrupted before it finished.';

export const SUMMARY_PREFIX =
  'Summary of the earlier conversation (older messages were summarised to fit the context window):';

type Compaction = Extract<LogEntry, { kind: 'compaction' }>;

type OpenBatch = {
  calls: { id: string; name: string }[];
  results: Map<string, LlmMessage>;
};

/**
 * The model's view of a session log. It starts from the latest compaction's summary when there
 * is one (then only entries after its range), does not replay failed or aborted answers, feeds
 * tool results back in the order of the calls, and gives a tool call that never got a result
 * (the worker died, the turn was cancelled) a synthetic one, because every provider rejects a
 * tool call left unanswered.
 *
 * The translation is incremental: a turn appends to its log and calls `build` before each model
 * call, and only the new entries are translated, so a step costs the same at step 1000 as at
 * step 10 (the returned array is a fresh copy, which is a pointer copy, not a translation).
 */
export class PromptBuilder {
  readonly #system: string;
  #log: readonly LogEntry[] | undefined;
  #consumed = 0;
  #closed: LlmMessage[] = [];
  #open: OpenBatch | undefined;

  constructor(systemPrompt: string) {
    this.#system = systemPrompt;
  }

  /** Messages for `log`; pass the same (growing) array each time to translate only its tail. */
  build(log: readonly LogEntry[]): LlmMessage[] {
    if (log !== this.#log || log.length < this.#consumed) this.#reset(log);
    for (let i = this.#consumed; i < log.length; i++) {
      const entry = log[i]!;
      if (entry.kind === 'compaction') this.#startAt(log, i);
      else this.#add(entry);
    }
    this.#consumed = log.length;
    if (!this.#open) return this.#closed.slice();
    return [...this.#closed, ...answered(this.#open)];
  }

  #reset(log: readonly LogEntry[]): void {
    this.#log = log;
    this.#consumed = 0;
    this.#closed = this.#system ? [{ role: 'system', content: this.#system }] : [];
    this.#open = undefined;
    for (let i = log.length - 1; i >= 0; i--) {
      if (log[i]!.kind === 'compaction') {
        this.#startAt(log, i);
        this.#consumed = i + 1;
        return;
      }
    }
  }

  /** Restarts from the compaction at `index`: its summary, then what it kept verbatim. */
  #startAt(log: readonly LogEntry[], index: number): void {
    const compaction = log[index] as Compaction;
    this.#closed = this.#system ? [{ role: 'system', content: this.#system }] : [];
    this.#open = undefined;
    this.#closed.push(summaryMessage(compaction.summary));
    let first = index;
    while (first > 0 && log[first - 1]!.seq > compaction.toSeq) first -= 1;
    for (let i = first; i < index; i++) {
      const entry = log[i]!;
      if (entry.kind !== 'compaction') this.#add(entry);
    }
  }

  #add(entry: LogEntry): void {
    switch (entry.kind) {
      case 'user_message':
        this.#close();
        this.#closed.push({ role: 'user', content: entry.text });
        break;
      case 'assistant_message': {
        if (entry.finishReason === 'error' || entry.finishReason === 'aborted') break;
        this.#close();
        this.#closed.push(assistantMessage(entry));
        if (entry.toolCalls.length > 0) {
          this.#open = {
            calls: entry.toolCalls.map(({ id, name }) => ({ id, name })),
            results: new Map(),
          };
        }
        break;
      }
      case 'tool_finished': {
        const open = this.#open;
        if (!open || open.results.has(entry.callId)) break;
        if (!open.calls.some((c) => c.id === entry.callId)) break;
        open.results.set(entry.callId, {
          role: 'tool',
          toolCallId: entry.callId,
          toolName: entry.name,
          content: entry.output,
          isError: !entry.ok,
        });
        if (open.results.size === open.calls.length) this.#close();
        break;
      }
      default:
        break;
    }
  }

  #close(): void {
    if (!this.#open) return;
    this.#closed.push(...answered(this.#open));
    this.#open = undefined;
  }
}

/** One-off translation of a whole log. */
export function historyToMessages(systemPrompt: string, log: readonly LogEntry[]): LlmMessage[] {
  return new PromptBuilder(systemPrompt).build(log);
}

export function summaryMessage(summary: string): LlmMessage {
  return { role: 'user', content: `${SUMMARY_PREFIX}\n\n${summary}` };
}

function answered(open: OpenBatch): LlmMessage[] {
  return open.calls.map(
    ({ id, name }) =>
      open.results.get(id) ?? {
        role: 'tool',
        toolCallId: id,
        toolName: name,
        content: INTERRUPTED_RESULT,
        isError: true,
      },
  );
}

function assistantMessage(entry: Extract<LogEntry, { kind: 'assistant_message' }>): LlmMessage {
  const parts: AssistantPart[] = [];
  if (entry.reasoning) {
    parts.push(
      entry.reasoningMeta
        ? { type: 'reasoning', text: entry.reasoning, meta: entry.reasoningMeta }
        : { type: 'reasoning', text: entry.reasoning },
    );
  }
  if (entry.text) parts.push({ type: 'text', text: entry.text });
  for (const call of entry.toolCalls) {
    parts.push(
      call.meta
        ? { type: 'tool_call', id: call.id, name: call.name, args: call.args, meta: call.meta }
        : { type: 'tool_call', id: call.id, name: call.name, args: call.args },
    );
  }
  return { role: 'assistant', content: parts, origin: entry.model };
}
