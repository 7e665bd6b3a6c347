import {
  type FunctionCallingConfig,
  FunctionCallingConfigMode,
  type GenerateContentParameters,
  type ThinkingConfig,
  type Tool,
} from '@google/genai';
import type { LlmRequest, ReasoningEffort, ToolSpec } from '../llm-types.ts';
import { toGeminiContents } from './gemini-contents.ts';
import { toGeminiSchema } from './gemini-schema.ts';

/** Thinking budgets per effort, in tokens (Gemini 2.5's scale: 128..32768 for Pro, 0.. for Flash). */
export const THINKING_BUDGETS: Record<ReasoningEffort, number> = {
  low: 1024,
  medium: 8192,
  high: 24576,
};

/**
 * `LlmRequest` → the SDK's `generateContentStream` parameters. The abort signal and per-request
 * headers ride in `config`, where the SDK reads them; `automaticContinuation: false` keeps the
 * SDK from re-requesting on its own (Tern's retry policy is the only one).
 */
export function toGeminiParameters(
  request: LlmRequest,
  signal: AbortSignal,
): GenerateContentParameters {
  const { contents, systemInstruction } = toGeminiContents(request.messages);
  const tools = request.tools && request.tools.length > 0 ? request.tools : undefined;
  const callingConfig = tools && functionCallingConfig(request.toolChoice);
  const thinkingConfig = request.reasoningEffort && thinking(request.reasoningEffort);
  return {
    model: request.model,
    contents,
    config: {
      abortSignal: signal,
      automaticContinuation: false,
      ...(request.headers ? { httpOptions: { headers: request.headers } } : {}),
      ...(systemInstruction ? { systemInstruction } : {}),
      ...(tools ? { tools: toGeminiTools(tools) } : {}),
      ...(callingConfig ? { toolConfig: { functionCallingConfig: callingConfig } } : {}),
      ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.stop && request.stop.length > 0 ? { stopSequences: request.stop } : {}),
      ...(thinkingConfig ? { thinkingConfig } : {}),
    },
  };
}

export function toGeminiTools(tools: readonly ToolSpec[]): Tool[] {
  return [
    {
      functionDeclarations: tools.map((tool) => {
        const parameters = toGeminiSchema(tool.parameters);
        return {
          name: tool.name,
          description: tool.description,
          ...(parameters ? { parameters } : {}),
        };
      }),
    },
  ];
}

function functionCallingConfig(
  choice: LlmRequest['toolChoice'],
): FunctionCallingConfig | undefined {
  if (choice === undefined || choice === 'auto') return undefined;
  if (choice === 'none') return { mode: FunctionCallingConfigMode.NONE };
  if (choice === 'required') return { mode: FunctionCallingConfigMode.ANY };
  return { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: [choice.name] };
}

function thinking(effort: ReasoningEffort): ThinkingConfig {
  return { thinkingBudget: THINKING_BUDGETS[effort], includeThoughts: true };
}
