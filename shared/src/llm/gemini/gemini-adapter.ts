import { type GenerateContentResponse, GoogleGenAI } from '@google/genai';
import type { WireAdapter } from '../wire-adapter.ts';
import { GEMINI_PROVIDER } from './gemini-contents.ts';
import { geminiErrorToLlmError } from './gemini-error.ts';
import { toGeminiParameters } from './gemini-request.ts';
import {
  createGeminiState,
  endGeminiStream,
  type GeminiStreamState,
  translateGeminiChunk,
} from './gemini-translate.ts';

export type GeminiOptions = {
  apiKey: string;
  /** The Generative Language API's root (the sim's URL in tests); the SDK adds `/v1beta`. */
  baseUrl?: string;
  /** Ids for calls Gemini sends without one (all of them, before Gemini 3). */
  makeCallId?: (index: number) => string;
};

/**
 * The Gemini API (Generative Language, not Vertex) through `@google/genai`, the successor of the
 * deprecated `@google/generative-ai`. The client never retries on its own: `httpOptions.
 * retryOptions` stays unset (the SDK's default is no retry) and each call turns automatic
 * continuation off, so Tern's retry policy is the only one.
 */
export function geminiAdapter(
  options: GeminiOptions,
): WireAdapter<GenerateContentResponse, GeminiStreamState> {
  const client = new GoogleGenAI({
    apiKey: options.apiKey,
    // Explicit, so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot switch the backend.
    vertexai: false,
    ...(options.baseUrl ? { httpOptions: { baseUrl: options.baseUrl } } : {}),
  });
  return {
    provider: GEMINI_PROVIDER,
    open: (request, signal) =>
      client.models.generateContentStream(toGeminiParameters(request, signal)),
    createState: () => createGeminiState(options.makeCallId),
    translate: translateGeminiChunk,
    end: endGeminiStream,
    mapError: geminiErrorToLlmError,
  };
}
