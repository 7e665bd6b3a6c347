import type { ModelMessage, ModelRequest } from '../rule-model.ts';
import { countTokens } from '../tokenizer.ts';
import { checkContents } from './gemini-contents-check.ts';
import type { DecodedContent, DecodedFunctionCall, DecodedRequest } from './gemini-decoded.ts';
import {
  badRequest,
  fieldProblem,
  type GeminiErrorResponse,
  invalidArgument,
} from './gemini-errors.ts';
import { decodeProtoJson, isJson } from './gemini-proto-json.ts';
import { generateContentRequestShape } from './gemini-request-shape.ts';
import { checkTools } from './gemini-tools-check.ts';

/**
 * Parses a `generateContent` body as the API does (JSON → protobuf, then its semantic rules, each
 * with the real message) and translates it into the wire-neutral `ModelRequest`. Settings the sim
 * does not model (temperature, safety, candidate count…) are checked for type and ignored.
 */
export interface GeminiRequest {
  maxOutputTokens: number | undefined;
  stop: string[];
  /** The model thinks (spends steps and thought tokens, signs its output). */
  thinking: boolean;
  /** Thought summaries are streamed as `thought: true` parts. */
  includeThoughts: boolean;
  /** `mode: ANY`: the reply must be a function call. */
  forceCall: boolean;
  promptTokens: number;
  modelRequest: ModelRequest;
}

export type GeminiRequestParse =
  | { ok: true; request: GeminiRequest }
  | { ok: false; error: GeminiErrorResponse };

const MAX_STOP_SEQUENCES = 5;

export function parseGeminiRequest(bodyText: string): GeminiRequestParse {
  let body: unknown;
  try {
    body = bodyText.trim() === '' ? {} : JSON.parse(bodyText);
  } catch {
    const description = 'Invalid JSON payload received. Unexpected token.';
    return { ok: false, error: badRequest([{ field: '', description }]) };
  }
  const decoded = decodeProtoJson(body, generateContentRequestShape);
  if (decoded.violations.length > 0) return { ok: false, error: badRequest(decoded.violations) };
  // decodeProtoJson checked every field the sim reads against the request's shape.
  const request = (isJson(decoded.value) ? decoded.value : {}) as DecodedRequest;
  const thinkingConfig = request.generationConfig?.thinkingConfig;
  const thinking =
    thinkingConfig !== undefined &&
    thinkingConfig.thinkingBudget !== 0 &&
    (thinkingConfig.thinkingBudget !== undefined ||
      thinkingConfig.thinkingLevel !== undefined ||
      thinkingConfig.includeThoughts === true);
  const problem =
    checkContents(request, thinking) ?? checkTools(request) ?? checkGeneration(request);
  if (problem) return { ok: false, error: invalidArgument(problem) };

  const calling = request.toolConfig?.functionCallingConfig;
  const declared = (request.tools ?? []).flatMap((t) =>
    (t.functionDeclarations ?? []).map((f) => f.name ?? ''),
  );
  const allowed = calling?.allowedFunctionNames;
  const toolNames =
    calling?.mode === 'NONE' ? [] : declared.filter((n) => !allowed || allowed.includes(n));
  const { messages, promptTokens } = toModelMessages(request);
  return {
    ok: true,
    request: {
      maxOutputTokens: request.generationConfig?.maxOutputTokens,
      stop: request.generationConfig?.stopSequences ?? [],
      thinking,
      includeThoughts: thinking && thinkingConfig?.includeThoughts === true,
      forceCall: calling?.mode === 'ANY' && toolNames.length > 0,
      promptTokens,
      modelRequest: { messages, toolNames, reasoning: thinking },
    },
  };
}

function checkGeneration(request: DecodedRequest): string | undefined {
  const config = request.generationConfig;
  if (config?.maxOutputTokens !== undefined && config.maxOutputTokens < 1) {
    return fieldProblem(
      'generation_config.max_output_tokens',
      'max_output_tokens must be positive.',
    );
  }
  if ((config?.stopSequences?.length ?? 0) > MAX_STOP_SEQUENCES) {
    return fieldProblem(
      'generation_config.stop_sequences',
      `the number of stop sequences must be less than or equal to ${MAX_STOP_SEQUENCES}.`,
    );
  }
  return undefined;
}

/**
 * Function responses become tool messages named after the call they answer (matched by id, else
 * by name in order, else by position), so the rule model can say which file it read.
 */
function toModelMessages(request: DecodedRequest): {
  messages: ModelMessage[];
  promptTokens: number;
} {
  const messages: ModelMessage[] = [];
  let promptTokens = 0;
  const system = textOf(request.systemInstruction);
  if (system !== undefined) {
    messages.push({ role: 'system', text: system });
    promptTokens += countTokens(system);
  }
  let lastCalls: DecodedFunctionCall[] = [];
  for (const content of request.contents ?? []) {
    const parts = content.parts ?? [];
    for (const part of parts) {
      if (part.text !== undefined && !part.thought) promptTokens += countTokens(part.text);
      if (part.functionCall) {
        const { name = '', args = {} } = part.functionCall;
        promptTokens += countTokens(name) + countTokens(JSON.stringify(args));
      }
      if (part.functionResponse) {
        const { name = '', response = {} } = part.functionResponse;
        promptTokens += countTokens(name) + countTokens(JSON.stringify(response));
      }
    }
    const text = textOf(content);
    if (content.role === 'model') {
      lastCalls = parts.flatMap((p) => (p.functionCall ? [p.functionCall] : []));
      messages.push({ role: 'assistant', text: text ?? '' });
      continue;
    }
    const unmatched = [...lastCalls];
    parts.forEach((part, index) => {
      const response = part.functionResponse;
      if (!response) return;
      const at = unmatched.findIndex((c) =>
        response.id !== undefined ? c.id === response.id : c.name === response.name,
      );
      const call = at === -1 ? unmatched[0] : unmatched[at];
      unmatched.splice(at === -1 ? 0 : at, 1);
      const path = (call ?? lastCalls[index])?.args?.path;
      messages.push({
        role: 'tool',
        text: resultText(response.response ?? {}),
        toolName: response.name,
        toolPath: typeof path === 'string' ? path : undefined,
      });
    });
    if (text !== undefined) messages.push({ role: 'user', text });
  }
  return { messages, promptTokens };
}

function textOf(content: DecodedContent | undefined): string | undefined {
  const texts = (content?.parts ?? []).flatMap((p) =>
    p.text !== undefined && !p.thought ? [p.text] : [],
  );
  return texts.length === 0 ? undefined : texts.join('\n');
}

/** The documented convention is `{output}` or `{error}`; anything else is quoted as JSON. */
function resultText(response: Record<string, unknown>): string {
  for (const key of ['output', 'error', 'content', 'result']) {
    const value = response[key];
    if (typeof value === 'string') return value;
  }
  return JSON.stringify(response);
}
