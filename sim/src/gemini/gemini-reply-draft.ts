import type { ReplyOutput } from '../reply-output.ts';
import type { ReplyPlan } from '../rule-model.ts';
import { countTokens } from '../tokenizer.ts';
import type { Json } from './gemini-proto-json.ts';
import { callSignature, textSignature } from './gemini-signatures.ts';

/**
 * A reply as Gemini streams it, before serialization: a few words per chunk (thought summaries
 * first, when asked for), each function call whole in a chunk of its own with no id, and the
 * running count of candidate tokens each chunk's `usageMetadata` reports. With thinking on, the
 * first call carries the thought signature; a text reply gets it on a final empty text part, as
 * the real API sends it.
 */
export interface ChunkDraft {
  parts: Json[];
  /** The decoding step whose completion makes the chunk due. */
  step: number;
  /** Candidate (non-thought) tokens generated up to and including this chunk. */
  candidatesTokens: number;
  finishReason?: string;
}

export interface ReplyDraft {
  chunks: ChunkDraft[];
  thoughtsTokens: number;
  candidatesTokens: number;
  /** Set with `MALFORMED_FUNCTION_CALL`, which the API explains here. */
  finishMessage?: string;
}

export interface DraftOptions {
  thinking: boolean;
  includeThoughts: boolean;
  wordsPerChunk: number;
}

/**
 * Gemini has no way to send a call whose arguments are not a JSON object (the `truncated_tool_json`
 * fault, a scenario's broken arguments): the API's equivalent is a candidate that ends with
 * `MALFORMED_FUNCTION_CALL` and no call at all.
 */
export function draftReply(
  output: ReplyOutput,
  plan: ReplyPlan,
  options: DraftOptions,
): ReplyDraft {
  const malformed = plan.toolCalls.some((call) => argsObject(call.arguments) === undefined);
  const chunks: ChunkDraft[] = [];
  let group: { thought: boolean; text: string; words: number; step: number } | undefined;
  let tokens = 0;
  let text = '';
  const callArgs: string[] = [];
  let calls = 0;

  const flush = () => {
    if (!group) return;
    const part: Json = group.thought ? { text: group.text, thought: true } : { text: group.text };
    chunks.push({ parts: [part], step: group.step, candidatesTokens: tokens });
    group = undefined;
  };
  const addWords = (thought: boolean, word: string, step: number) => {
    if (group && (group.thought !== thought || group.words >= options.wordsPerChunk)) flush();
    group ??= { thought, text: '', words: 0, step };
    group.text += word;
    group.words++;
    group.step = step;
  };
  const emitCall = (index: number, step: number) => {
    const call = plan.toolCalls[index];
    const args = call && argsObject(call.arguments);
    if (!call || !args || malformed) return;
    const part: Json = { functionCall: { name: call.name, args } };
    if (options.thinking && calls === 0) part.thoughtSignature = callSignature(call.name, args);
    calls++;
    flush();
    chunks.push({ parts: [part], step, candidatesTokens: tokens });
  };

  output.pieces.forEach((piece, step) => {
    switch (piece.type) {
      case 'reasoning':
        if (options.includeThoughts) addWords(true, piece.text, step);
        return;
      // Each event reports the tokens generated up to its own end: a finished group is flushed
      // before the next piece's tokens are counted.
      case 'text':
        addWords(false, piece.text, step);
        tokens += countTokens(piece.text);
        text += piece.text;
        return;
      case 'tool_call_start':
        flush();
        tokens += countTokens(piece.name);
        callArgs[piece.index] = '';
        if (plan.toolCalls[piece.index]?.arguments === '') emitCall(piece.index, step);
        return;
      case 'tool_call_args':
        tokens += countTokens(piece.text);
        callArgs[piece.index] = (callArgs[piece.index] ?? '') + piece.text;
        // A call cut by the token budget is never emitted: Gemini sends calls whole or not at all.
        if (callArgs[piece.index] === plan.toolCalls[piece.index]?.arguments) {
          emitCall(piece.index, step);
        }
        return;
    }
  });
  flush();

  const lastStep = Math.max(output.pieces.length - 1, 0);
  const draft: ReplyDraft = {
    chunks,
    thoughtsTokens: output.reasoningTokens,
    candidatesTokens: tokens,
  };
  if (malformed) {
    draft.finishMessage = `Malformed function call: ${plan.toolCalls[0]?.name ?? 'default_api'}(`;
    chunks.push({
      parts: [],
      step: lastStep,
      candidatesTokens: tokens,
      finishReason: 'MALFORMED_FUNCTION_CALL',
    });
    return draft;
  }
  const finishReason = output.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP';
  const last = chunks.at(-1);
  if (options.thinking && calls === 0) {
    chunks.push({
      parts: [{ text: '', thoughtSignature: textSignature(text) }],
      step: lastStep,
      candidatesTokens: tokens,
      finishReason,
    });
  } else if (last && !last.parts.some((p) => p.thought === true)) {
    last.finishReason = finishReason;
  } else {
    chunks.push({ parts: [], step: lastStep, candidatesTokens: tokens, finishReason });
  }
  return draft;
}

function argsObject(text: string): Json | undefined {
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Json)
      : undefined;
  } catch {
    return undefined;
  }
}
