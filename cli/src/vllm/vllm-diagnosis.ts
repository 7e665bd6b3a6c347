import type { LlmError } from '@tern/shared/llm/llm-types';

/**
 * What an operator should change on the vLLM server for each way a check fails. The wording
 * names vLLM's own flags, so the fix can be looked up in its docs and in `vllm/presets`.
 */

export type DiagnosisContext = {
  url: string;
  model: string;
  apiKeyGiven: boolean;
  /** What `/v1/models` listed, when it answered. */
  served: readonly string[];
};

export const PRESETS_HINT = 'see vllm/presets for the flags of each model family';

export function unreachable(url: string, message: string): string {
  return `cannot reach ${url} (${message}): is vLLM running, listening on that address (--host 0.0.0.0 in a container) and port (--port, 8000 by default)?`;
}

export function unauthorized(apiKeyGiven: boolean): string {
  return apiKeyGiven
    ? 'the API key was refused: --api-key must equal the server’s --api-key (or VLLM_API_KEY)'
    : 'the server requires an API key (it was started with --api-key or VLLM_API_KEY): pass --api-key';
}

export function servedModelMismatch(model: string, served: readonly string[]): string {
  const serves =
    served.length > 0 ? `the server serves ${served.join(', ')}` : 'see GET /v1/models';
  return `model ${model} is not served (404; ${serves}): pass --model with a served name, or start vLLM with --served-model-name ${model}; Tern's model id is then openai-compatible:${model}`;
}

export const AUTO_TOOL_CHOICE =
  /enable-auto-tool-choice|tool-call-parser|auto" tool choice|tool_choice/i;

export function toolParserMissing(): string {
  return `tool calling is off: start vLLM with --enable-auto-tool-choice --tool-call-parser <parser for this model>; ${PRESETS_HINT}`;
}

/** The diagnosis of an error the LLM layer reported for a chat completion. */
export function diagnoseLlmError(error: LlmError, ctx: DiagnosisContext): string {
  switch (error.kind) {
    case 'auth':
      return unauthorized(ctx.apiKeyGiven);
    case 'permission':
      return `the server refused the request (403: ${error.message}): check a proxy in front of vLLM`;
    case 'not_found':
      return servedModelMismatch(ctx.model, ctx.served);
    case 'context_overflow':
      return `the prompt does not fit (${error.message}): raise --max-model-len if the GPU has room`;
    case 'network':
      return unreachable(ctx.url, error.message);
    case 'timeout':
      return `no complete answer in time (${error.message}): the server is overloaded or still loading the model`;
    case 'overloaded':
    case 'rate_limited':
      return `the server is busy (${error.message}): try again when its queue drains`;
    case 'invalid_request':
      if (AUTO_TOOL_CHOICE.test(error.message)) return toolParserMissing();
      if (/chat template|chat_template/i.test(error.message)) {
        return `the chat template failed (${error.message}): pass the model's --chat-template; ${PRESETS_HINT}`;
      }
      return `the server refused the request as invalid (${error.message})`;
    default:
      return `${error.kind}: ${error.message}`;
  }
}
