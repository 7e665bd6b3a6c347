import {
  ApiError,
  type GenerateContentResponse,
  GoogleGenAI,
  type Part,
  type Tool,
  Type,
} from '@google/genai';
import { expect } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';

/**
 * What the Gemini route's tests share: a sim with an official SDK client pointed at it (the SDK is
 * the arbiter of wire fidelity: every reply goes through its parser), and readers for its output.
 */
export const tools: Tool[] = [
  {
    functionDeclarations: ['read_file', 'list_files'].map((name) => ({
      name,
      description: `${name} of the workspace`,
      parameters: {
        type: Type.OBJECT,
        properties: { path: { type: Type.STRING } },
        required: ['path'],
      },
    })),
  },
];
export const thinking = { thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 } };

export async function startSim(seed = 7): Promise<{ sim: SimServer; ai: GoogleGenAI }> {
  const sim = await createSimServer({ seed });
  return { sim, ai: clientFor(sim.url) };
}

export const clientFor = (baseUrl: string, apiKey = 'AIza-test') =>
  new GoogleGenAI({ apiKey, vertexai: false, httpOptions: { baseUrl } });

export const fault = (name: string) => ({ httpOptions: { headers: { 'x-tern-sim-fault': name } } });

export async function collect(
  stream: AsyncIterable<GenerateContentResponse>,
): Promise<GenerateContentResponse[]> {
  const chunks: GenerateContentResponse[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

export const partsOf = (chunks: GenerateContentResponse[]): Part[] =>
  chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
export const textOf = (parts: Part[]) =>
  parts
    .filter((p) => !p.thought)
    .map((p) => p.text ?? '')
    .join('');
export const finishes = (chunks: GenerateContentResponse[]) =>
  chunks.flatMap((c) => c.candidates?.map((x) => x.finishReason) ?? []).filter((f) => f);

export async function errorOf(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

export interface GoogleErrorJson {
  error: {
    code: number;
    status: string;
    message: string;
    details?: { '@type': string; [k: string]: unknown }[];
  };
}

/** The SDK puts the whole error body, as JSON, in the message. */
export function bodyOf(error: ApiError): GoogleErrorJson {
  return JSON.parse(error.message.slice(error.message.indexOf('{')));
}
