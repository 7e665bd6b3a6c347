import type { RawMessageStreamEvent, StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { FinishReason } from '../../session/log-entry.ts';
import { makeLlmError } from '../http-error-kind.ts';
import type { LlmEvent } from '../llm-types.ts';
import { StreamFailure } from '../stream-failure.ts';
import { parseToolArgs } from '../tool-args.ts';

export const ANTHROPIC_PROVIDER = 'anthropic';

type ToolBlock = { id: string; name: string; args: string };

export type AnthropicStreamState = {
  /** Open tool_use blocks by content index, until their `content_block_stop`. */
  tools: Map<number, ToolBlock>;
  stopReason: StopReason | null;
  /** Uncached input, cache reads and cache writes, as the API reports them separately. */
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  done: boolean;
};

export function createAnthropicState(): AnthropicStreamState {
  return {
    tools: new Map(),
    stopReason: null,
    input: 0,
    cacheRead: 0,
    cacheWrite: 0,
    output: 0,
    done: false,
  };
}

const finishReasons: Record<StopReason, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  refusal: 'content_filter',
};

/**
 * One Messages stream event → normalised events. Pure; appends to `out`. `ping` never reaches
 * here (the SDK drops it) and an `error` event arrives as a thrown `APIError` instead.
 */
export function translateAnthropicEvent(
  event: RawMessageStreamEvent,
  state: AnthropicStreamState,
  out: LlmEvent[],
): void {
  switch (event.type) {
    case 'message_start':
      readUsage(state, event.message.usage);
      return;
    case 'content_block_start': {
      const block = event.content_block;
      if (block.type === 'tool_use') {
        state.tools.set(event.index, { id: block.id, name: block.name, args: '' });
        out.push({ type: 'tool_call_start', id: block.id, name: block.name });
      } else if (block.type === 'text' && block.text !== '') {
        out.push({ type: 'text_delta', text: block.text });
      } else if (block.type === 'thinking' && block.thinking !== '') {
        out.push({ type: 'reasoning_delta', text: block.thinking });
      }
      return;
    }
    case 'content_block_delta': {
      const delta = event.delta;
      switch (delta.type) {
        case 'text_delta':
          if (delta.text !== '') out.push({ type: 'text_delta', text: delta.text });
          return;
        case 'thinking_delta':
          if (delta.thinking !== '') out.push({ type: 'reasoning_delta', text: delta.thinking });
          return;
        case 'signature_delta':
          out.push({
            type: 'reasoning_signature',
            meta: { provider: ANTHROPIC_PROVIDER, signature: delta.signature },
          });
          return;
        case 'input_json_delta': {
          const tool = state.tools.get(event.index);
          // The API opens each tool input with an empty fragment; it carries nothing.
          if (!tool || delta.partial_json === '') return;
          tool.args += delta.partial_json;
          out.push({ type: 'tool_call_delta', id: tool.id, argsText: delta.partial_json });
          return;
        }
        default:
          return; // citations: not part of Tern's contract
      }
    }
    case 'content_block_stop': {
      const tool = state.tools.get(event.index);
      if (tool) closeTool(state, event.index, tool, out);
      return;
    }
    case 'message_delta':
      state.stopReason = event.delta.stop_reason ?? state.stopReason;
      readUsage(state, event.usage);
      return;
    case 'message_stop':
      // A tool block the stream never closed is closed here, so its call is not lost.
      for (const [index, tool] of state.tools) closeTool(state, index, tool, out);
      state.done = true;
      return;
  }
}

/**
 * The stream ended: after `message_stop`, the usage and the finish; without it, the stream was cut
 * short and nothing it said can be trusted whole.
 */
export function endAnthropicStream(state: AnthropicStreamState, out: LlmEvent[]): void {
  if (!state.done) {
    throw new StreamFailure(makeLlmError('network', 'the stream ended before message_stop'));
  }
  out.push({
    type: 'usage',
    usage: {
      // Tern's `input` counts every prompt token, cached ones included (as OpenAI's does).
      input: state.input + state.cacheRead + state.cacheWrite,
      output: state.output,
      cached: state.cacheRead,
      reasoning: 0,
      costUsd: 0,
    },
  });
  out.push({ type: 'finish', reason: finishReasons[state.stopReason ?? 'end_turn'] ?? 'stop' });
}

function closeTool(state: AnthropicStreamState, index: number, tool: ToolBlock, out: LlmEvent[]) {
  state.tools.delete(index);
  out.push({
    type: 'tool_call_end',
    id: tool.id,
    name: tool.name,
    rawArgs: tool.args,
    parsed: parseToolArgs(tool.args),
  });
}

type UsageFields = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
};

/**
 * `message_start` has the input counts and a placeholder output; `message_delta` has the output
 * and, on newer API versions, cumulative input counts. Present values overwrite, never add.
 */
function readUsage(state: AnthropicStreamState, usage: UsageFields): void {
  if (usage.input_tokens != null) state.input = usage.input_tokens;
  if (usage.cache_read_input_tokens != null) state.cacheRead = usage.cache_read_input_tokens;
  if (usage.cache_creation_input_tokens != null)
    state.cacheWrite = usage.cache_creation_input_tokens;
  if (usage.output_tokens != null) state.output = usage.output_tokens;
}
