import type { TimedChunk } from '../paced-writer.ts';
import type { GoogleErrorBody } from './gemini-errors.ts';
import { compactGoogleJson } from './gemini-json.ts';
import type { Json } from './gemini-proto-json.ts';
import type { ChunkDraft, ReplyDraft } from './gemini-reply-draft.ts';

/**
 * Serializes a drafted reply as the API sends it: `GenerateContentResponse` objects, each with the
 * running `usageMetadata` (every chunk carries it; the last one is the total), as SSE data-only
 * events separated by `\r\n\r\n`, or as one pretty-printed response when not streamed.
 */
export interface ReplyEnvelope {
  model: string;
  responseId: string;
  promptTokens: number;
}

/** One `GenerateContentResponse` per drafted chunk, with the step it is due at. */
export function streamedResponses(
  draft: ReplyDraft,
  envelope: ReplyEnvelope,
): { body: Json; step: number }[] {
  return draft.chunks.map((chunk) => ({
    body: response([candidate(chunk, draft)], chunk.candidatesTokens, draft, envelope),
    step: chunk.step,
  }));
}

export function sseChunks(draft: ReplyDraft, envelope: ReplyEnvelope): TimedChunk[] {
  return streamedResponses(draft, envelope).map(({ body, step }) => ({
    data: sseEvent(body),
    step,
  }));
}

/** `streamGenerateContent` without `alt=sse`: one JSON array, written element by element. */
export function jsonArrayChunks(draft: ReplyDraft, envelope: ReplyEnvelope): TimedChunk[] {
  const elements = streamedResponses(draft, envelope).map(({ body, step }, i) => ({
    data: `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(body, null, 2)}`,
    step,
  }));
  elements.push({ data: ']', step: elements.at(-1)?.step ?? 0 });
  return elements;
}

export function sseEvent(body: unknown): string {
  return `data: ${compactGoogleJson(body)}\r\n\r\n`;
}

export function sseError(error: GoogleErrorBody): string {
  return sseEvent(error);
}

/** The non-streamed reply: every chunk's parts in one candidate, adjacent texts merged. */
export function wholeResponse(draft: ReplyDraft, envelope: ReplyEnvelope): Json {
  const parts: Json[] = [];
  for (const part of draft.chunks.flatMap((c) => c.parts)) {
    const previous = parts.at(-1);
    const mergeable = (p: Json | undefined) =>
      p !== undefined && typeof p.text === 'string' && p.thoughtSignature === undefined;
    if (
      mergeable(previous) &&
      typeof part.text === 'string' &&
      previous?.thought === part.thought
    ) {
      parts[parts.length - 1] = { ...part, text: `${previous?.text}${part.text}` };
    } else if (
      part.text === '' &&
      part.thoughtSignature &&
      mergeable(previous) &&
      !previous?.thought
    ) {
      // A text reply's signature rides on its (single) text part when not streamed.
      parts[parts.length - 1] = { ...previous, thoughtSignature: part.thoughtSignature };
    } else {
      parts.push(part);
    }
  }
  const finishReason = draft.chunks.at(-1)?.finishReason;
  return response(
    [candidate({ parts, step: 0, candidatesTokens: 0, finishReason }, draft)],
    draft.candidatesTokens,
    draft,
    envelope,
  );
}

function candidate(chunk: ChunkDraft, draft: ReplyDraft): Json {
  if (chunk.finishReason === 'MALFORMED_FUNCTION_CALL' && chunk.parts.length === 0) {
    return { finishReason: chunk.finishReason, index: 0, finishMessage: draft.finishMessage };
  }
  return {
    content: chunk.parts.length > 0 ? { parts: chunk.parts, role: 'model' } : { role: 'model' },
    finishReason: chunk.finishReason,
    index: 0,
  };
}

function response(
  candidates: Json[],
  candidatesTokens: number,
  draft: ReplyDraft,
  envelope: ReplyEnvelope,
): Json {
  return {
    candidates,
    usageMetadata: usageMetadata(envelope.promptTokens, candidatesTokens, draft.thoughtsTokens),
    modelVersion: envelope.model,
    responseId: envelope.responseId,
  };
}

/** Zero counts are left out, as proto3 JSON leaves out default values. */
function usageMetadata(prompt: number, candidates: number, thoughts: number): Json {
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates || undefined,
    totalTokenCount: prompt + candidates + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    thoughtsTokenCount: thoughts || undefined,
  };
}
