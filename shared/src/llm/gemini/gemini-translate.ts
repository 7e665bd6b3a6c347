import { randomUUID } from 'node:crypto';
import type {
  FunctionCall,
  GenerateContentResponse,
  GenerateContentResponseUsageMetadata,
  Part,
} from '@google/genai';
import type { FinishReason } from '../../session/log-entry.ts';
import { makeLlmError } from '../http-error-kind.ts';
import type { LlmEvent, ProviderMeta } from '../llm-types.ts';
import { StreamFailure } from '../stream-failure.ts';
import { parseToolArgs } from '../tool-args.ts';
import { GEMINI_PROVIDER } from './gemini-contents.ts';
import {
  type ArgsAssembly,
  applyPartialArgs,
  closeAssembly,
  newAssembly,
} from './gemini-partial-args.ts';

/**
 * Gemini stream chunks → normalised events. Pure apart from the call ids it makes up (injectable).
 * - Thought parts are reasoning, other text parts are text. A part's `thoughtSignature` becomes a
 *   `reasoning_signature` (Gemini puts a text reply's on a final empty part), except on a function
 *   call, where it is the call's `meta`: that is where it must go back.
 * - A function call arrives whole: start, one delta with its JSON, end, at once. Gemini 3 on
 *   Vertex may stream one instead (`willContinue` and `partialArgs`); it is assembled and ends
 *   with the part that no longer says `willContinue`.
 * - Every chunk carries the running `usageMetadata`: the last one is the call's usage.
 * - `finishReason` is `STOP` after calls too; the finish says `tool_calls` when a call was made.
 */
export interface GeminiStreamState {
  makeCallId: (index: number) => string;
  calls: number;
  open: OpenCall | undefined;
  finishReason: string | undefined;
  blockReason: string | undefined;
  usage: GenerateContentResponseUsageMetadata | undefined;
}

interface OpenCall {
  id: string;
  name: string;
  assembly: ArgsAssembly;
  meta: ProviderMeta | undefined;
}

export const defaultCallId = (index: number) => `call_${index}_${randomUUID().slice(0, 8)}`;

export function createGeminiState(makeCallId = defaultCallId): GeminiStreamState {
  return {
    makeCallId,
    calls: 0,
    open: undefined,
    finishReason: undefined,
    blockReason: undefined,
    usage: undefined,
  };
}

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'LANGUAGE',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);
const MALFORMED = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL']);

export function translateGeminiChunk(
  chunk: GenerateContentResponse,
  state: GeminiStreamState,
  out: LlmEvent[],
): void {
  if (chunk.usageMetadata) state.usage = chunk.usageMetadata;
  if (chunk.promptFeedback?.blockReason) state.blockReason = chunk.promptFeedback.blockReason;
  const candidate = chunk.candidates?.[0];
  for (const part of candidate?.content?.parts ?? []) translatePart(part, state, out);
  if (candidate?.finishReason) state.finishReason = candidate.finishReason;
}

function translatePart(part: Part, state: GeminiStreamState, out: LlmEvent[]): void {
  const meta = part.thoughtSignature
    ? { provider: GEMINI_PROVIDER, signature: part.thoughtSignature }
    : undefined;
  if (part.functionCall) {
    translateCall(part.functionCall, meta, state, out);
    return;
  }
  if (part.text)
    out.push({ type: part.thought ? 'reasoning_delta' : 'text_delta', text: part.text });
  if (meta) out.push({ type: 'reasoning_signature', meta });
}

function translateCall(
  call: FunctionCall,
  meta: ProviderMeta | undefined,
  state: GeminiStreamState,
  out: LlmEvent[],
): void {
  let open = state.open;
  const continues =
    open && (call.name === undefined || call.name === open.name) && call.args === undefined;
  if (open && !continues) {
    throw new StreamFailure(
      makeLlmError('malformed_response', `function call ${open.name} was never closed`),
    );
  }
  if (!open) {
    open = {
      id: call.id || state.makeCallId(state.calls),
      name: call.name ?? '',
      assembly: newAssembly(call.args ?? {}),
      meta,
    };
    state.calls += 1;
    out.push({ type: 'tool_call_start', id: open.id, name: open.name });
  }
  open.meta ??= meta;
  if (call.partialArgs) {
    const streamed = applyPartialArgs(open.assembly, call.partialArgs);
    if (streamed) out.push({ type: 'tool_call_delta', id: open.id, argsText: streamed });
  }
  if (call.willContinue) {
    state.open = open;
    return;
  }
  state.open = undefined;
  const { delta, raw } = closeAssembly(open.assembly);
  if (delta) out.push({ type: 'tool_call_delta', id: open.id, argsText: delta });
  out.push({
    type: 'tool_call_end',
    id: open.id,
    name: open.name,
    rawArgs: raw,
    parsed: parseToolArgs(raw),
    ...(open.meta ? { meta: open.meta } : {}),
  });
}

/** The stream ended: usage, then the finish its last `finishReason` calls for. */
export function endGeminiStream(state: GeminiStreamState, out: LlmEvent[]): void {
  if (state.finishReason === undefined && state.blockReason === undefined) {
    throw new StreamFailure(makeLlmError('network', 'the stream ended before a finish reason'));
  }
  if (state.usage) out.push({ type: 'usage', usage: usageOf(state.usage) });
  if (state.open) {
    const error = makeLlmError(
      'malformed_response',
      `function call ${state.open.name} was cut off`,
    );
    out.push({ type: 'finish', reason: 'error', error });
    return;
  }
  const reason = state.blockReason ? 'SAFETY' : (state.finishReason ?? 'STOP');
  if (MALFORMED.has(reason)) {
    const error = makeLlmError('malformed_response', `Gemini ended the reply with ${reason}`);
    out.push({ type: 'finish', reason: 'error', error });
    return;
  }
  out.push({ type: 'finish', reason: finishOf(reason, state.calls > 0) });
}

function finishOf(reason: string, called: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return called ? 'tool_calls' : 'stop';
}

function usageOf(usage: GenerateContentResponseUsageMetadata) {
  const thoughts = usage.thoughtsTokenCount ?? 0;
  return {
    input: (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0),
    output: (usage.candidatesTokenCount ?? 0) + thoughts,
    cached: usage.cachedContentTokenCount ?? 0,
    reasoning: thoughts,
    costUsd: 0,
  };
}
