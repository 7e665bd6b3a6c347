import type { LlmError, LlmEvent, LlmRequest, ProviderMeta } from '@tern/shared/llm/llm-types';
import type { FinishReason, ToolCall, Usage } from '@tern/shared/session/log-entry';
import type { TurnIO } from './agent-types.ts';
import { zeroUsage } from './turn-log.ts';

/** One model call's answer as it came out of the stream. */
export type ModelAnswer = {
  text: string;
  reasoning: string;
  reasoningMeta?: ProviderMeta;
  calls: ToolCall[];
  usage: Usage;
  reason: FinishReason;
  error?: LlmError;
  ttftMs?: number;
  durationMs: number;
  /** Deltas went to watchers: if this answer is not committed, they must be told to drop them. */
  streamed: boolean;
};

export type StreamOptions = {
  turnId: string;
  /** Forward deltas to watchers (not for internal calls such as summaries). */
  live: boolean;
  onFirstOutput(): void;
};

/** Runs one model call to its `finish`, forwarding deltas and retries as events. */
export async function streamAnswer(
  io: TurnIO,
  request: LlmRequest,
  options: StreamOptions,
): Promise<ModelAnswer> {
  const started = io.now();
  const { turnId, live } = options;
  const answer: ModelAnswer = {
    text: '',
    reasoning: '',
    calls: [],
    usage: zeroUsage(),
    reason: 'stop',
    durationMs: 0,
    streamed: false,
  };
  const names = new Map<string, string>();
  const firstOutput = () => {
    if (answer.ttftMs !== undefined) return;
    answer.ttftMs = io.now() - started;
    options.onFirstOutput();
  };
  for await (const event of io.stream(request) as AsyncIterable<LlmEvent>) {
    switch (event.type) {
      case 'text_delta':
        firstOutput();
        answer.text += event.text;
        if (live) {
          answer.streamed = true;
          io.emit({ type: 'text_delta', turnId, text: event.text });
        }
        break;
      case 'reasoning_delta':
        firstOutput();
        answer.reasoning += event.text;
        if (live) {
          answer.streamed = true;
          io.emit({ type: 'reasoning_delta', turnId, text: event.text });
        }
        break;
      case 'tool_call_start':
        firstOutput();
        names.set(event.id, event.name);
        break;
      case 'tool_call_delta':
        if (live) {
          answer.streamed = true;
          io.emit({
            type: 'tool_call_delta',
            turnId,
            callId: event.id,
            name: names.get(event.id) ?? '',
            argsText: event.argsText,
          });
        }
        break;
      case 'tool_call_end': {
        const meta = event.meta ? { meta: event.meta } : {};
        answer.calls.push(
          event.parsed.ok
            ? { id: event.id, name: event.name, args: event.parsed.args, ...meta }
            : { id: event.id, name: event.name, args: {}, invalid: event.parsed.message, ...meta },
        );
        break;
      }
      case 'reasoning_signature':
        answer.reasoningMeta = event.meta;
        break;
      case 'retry':
        io.emit({
          type: 'model_retry',
          turnId,
          attempt: event.attempt,
          delayMs: event.delayMs,
          code: event.error.kind,
          message: event.error.message,
        });
        break;
      case 'usage':
        answer.usage = event.usage;
        break;
      case 'finish':
        answer.reason = event.reason;
        if (event.error) answer.error = event.error;
        break;
      case 'start':
        break;
    }
  }
  answer.durationMs = io.now() - started;
  return answer;
}
