import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { FinishReason } from '../../session/log-entry.ts';
import { makeLlmError } from '../http-error-kind.ts';
import type { LlmEvent, ToolSpec } from '../llm-types.ts';
import { StreamFailure } from '../stream-failure.ts';
import { parseToolArgs } from '../tool-args.ts';
import type { ChatCompat } from './openai-chat-compat.ts';

type OpenCall = { id: string; name: string; args: string };

export type ChatStreamState = {
  compat: ChatCompat;
  tools: readonly ToolSpec[] | undefined;
  calls: Map<number, OpenCall>;
  text: string;
  finish: FinishReason | undefined;
  usageSeen: boolean;
  callCounter: number;
};

export function createChatState(compat: ChatCompat, tools?: readonly ToolSpec[]): ChatStreamState {
  return {
    compat,
    tools,
    calls: new Map(),
    text: '',
    finish: undefined,
    usageSeen: false,
    callCounter: 0,
  };
}

const finishReasons: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

/** One Chat Completions chunk → normalised events. Pure; appends to `out`. */
export function translateChatChunk(
  chunk: ChatCompletionChunk,
  state: ChatStreamState,
  out: LlmEvent[],
): void {
  const choice = chunk.choices[0];
  if (choice) {
    const delta = choice.delta as ChatCompletionChunk.Choice.Delta & Record<string, unknown>;
    const fields = state.compat.reasoningDeltaFields;
    for (let i = 0; i < fields.length; i++) {
      const reasoning = delta[fields[i]!];
      if (typeof reasoning === 'string' && reasoning !== '') {
        out.push({ type: 'reasoning_delta', text: reasoning });
        break;
      }
    }
    if (delta.content) {
      if (state.compat.recoverLeakedToolCalls) state.text += delta.content;
      out.push({ type: 'text_delta', text: delta.content });
    }
    if (delta.tool_calls) {
      for (const toolDelta of delta.tool_calls) {
        let call = state.calls.get(toolDelta.index);
        if (!call) {
          state.callCounter += 1;
          call = {
            id: toolDelta.id || `call_${state.callCounter}`,
            name: toolDelta.function?.name ?? '',
            args: '',
          };
          state.calls.set(toolDelta.index, call);
          out.push({ type: 'tool_call_start', id: call.id, name: call.name });
        }
        const fragment = toolDelta.function?.arguments;
        if (fragment) {
          call.args += fragment;
          out.push({ type: 'tool_call_delta', id: call.id, argsText: fragment });
        }
      }
    }
    if (choice.finish_reason) state.finish = finishReasons[choice.finish_reason] ?? 'stop';
  }
  if (chunk.usage) {
    state.usageSeen = true;
    out.push({
      type: 'usage',
      usage: {
        input: chunk.usage.prompt_tokens,
        output: chunk.usage.completion_tokens,
        cached: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
        reasoning: chunk.usage.completion_tokens_details?.reasoning_tokens ?? 0,
        costUsd: 0,
      },
    });
  }
}

/** The stream ended: close the tool calls and finish, or fail if it was cut. */
export function endChatStream(state: ChatStreamState, out: LlmEvent[]): void {
  if (state.finish === undefined) {
    throw new StreamFailure(makeLlmError('network', 'the stream ended before a finish reason'));
  }
  if (state.calls.size === 0 && state.compat.recoverLeakedToolCalls) recoverLeaked(state, out);
  for (const call of state.calls.values()) {
    out.push({
      type: 'tool_call_end',
      id: call.id,
      name: call.name,
      rawArgs: call.args,
      parsed: parseToolArgs(call.args),
    });
  }
  // Some servers (vLLM parsers among them) report "stop" although the model called a tool.
  const reason = state.calls.size > 0 && state.finish === 'stop' ? 'tool_calls' : state.finish;
  out.push({ type: 'finish', reason });
}

const LEAKED = /<tool_call>\s*(\{[\s\S]*?\})\s*<\/tool_call>/g;

/**
 * A server whose tool parser failed leaves the call in the text (Hermes-style tags). When the
 * tagged JSON names an offered tool, it becomes a real call; the text deltas already streamed
 * stay as they were.
 */
function recoverLeaked(state: ChatStreamState, out: LlmEvent[]): void {
  if (!state.text.includes('<tool_call>')) return;
  for (const match of state.text.matchAll(LEAKED)) {
    let value: unknown;
    try {
      value = JSON.parse(match[1]!);
    } catch {
      continue;
    }
    const { name, arguments: args } = (value ?? {}) as { name?: unknown; arguments?: unknown };
    if (typeof name !== 'string' || !state.tools?.some((t) => t.name === name)) continue;
    state.callCounter += 1;
    const call = {
      id: `call_recovered_${state.callCounter}`,
      name,
      args: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
    };
    state.calls.set(-state.callCounter, call);
    out.push({ type: 'tool_call_start', id: call.id, name });
    out.push({ type: 'tool_call_delta', id: call.id, argsText: call.args });
  }
}
