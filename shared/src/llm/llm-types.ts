/**
 * The provider-neutral contract of Tern's LLM layer: one request type, one event stream, one error
 * taxonomy. Types only; adapters in sibling folders translate each wire API to and from it.
 */
import type { FinishReason, Usage } from '../session/log-entry.ts';

export type JsonSchema = { [key: string]: unknown };

export type ToolSpec = {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonSchema;
};

/**
 * Opaque data a provider needs back verbatim with the history (Anthropic thinking signatures,
 * Gemini thought signatures). Only ever replayed to the provider that produced it.
 */
export type ProviderMeta = { provider: string; signature?: string };

export type AssistantPart =
  | { type: 'text'; text: string; meta?: ProviderMeta }
  | { type: 'reasoning'; text: string; meta?: ProviderMeta }
  | {
      type: 'tool_call';
      id: string;
      name: string;
      args: Record<string, unknown>;
      meta?: ProviderMeta;
    };

export type LlmMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | {
      role: 'assistant';
      content: AssistantPart[];
      /** `<provider>:<model>` that produced it, so history can be translated for another one. */
      origin?: string;
    }
  | { role: 'tool'; toolCallId: string; toolName: string; content: string; isError?: boolean };

export type ReasoningEffort = 'low' | 'medium' | 'high';

export type LlmRequest = {
  model: string;
  messages: LlmMessage[];
  tools?: ToolSpec[];
  toolChoice?: 'auto' | 'none' | 'required' | { name: string };
  maxTokens?: number;
  temperature?: number;
  stop?: string[];
  reasoningEffort?: ReasoningEffort;
  signal?: AbortSignal;
  /** Per-call deadline in ms, on top of `signal`. */
  timeoutMs?: number;
  /** Extra HTTP headers for this call (e.g. simulator controls). Never logged. */
  headers?: Record<string, string>;
};

export const llmErrorKinds = [
  'auth',
  'permission',
  'not_found',
  'invalid_request',
  'context_overflow',
  'content_filter',
  'rate_limited',
  'overloaded',
  'server',
  'timeout',
  'network',
  'aborted',
  'malformed_response',
] as const;
export type LlmErrorKind = (typeof llmErrorKinds)[number];

export type LlmError = {
  kind: LlmErrorKind;
  message: string;
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  /** Context limit in tokens, when the provider stated it. */
  contextLimit?: number;
};

export type ToolArgsResult =
  | { ok: true; args: Record<string, unknown> }
  | { ok: false; message: string };

export type CallTiming = {
  /** From the call's start to its first content (text, reasoning or tool call). */
  ttftMs?: number;
  durationMs: number;
  attempts: number;
};

/** Normalised stream events; every stream ends with exactly one `finish`. */
export type LlmEvent =
  | { type: 'start'; model: string }
  | { type: 'text_delta'; text: string }
  | { type: 'reasoning_delta'; text: string }
  /** A signature that closes the reasoning so far (Anthropic thinking, Gemini thoughts). */
  | { type: 'reasoning_signature'; meta: ProviderMeta }
  | { type: 'tool_call_start'; id: string; name: string }
  | { type: 'tool_call_delta'; id: string; argsText: string }
  | {
      type: 'tool_call_end';
      id: string;
      name: string;
      rawArgs: string;
      parsed: ToolArgsResult;
      meta?: ProviderMeta;
    }
  | { type: 'usage'; usage: Usage }
  /** A retryable failure before any content; the call is tried again after `delayMs`. */
  | { type: 'retry'; attempt: number; delayMs: number; error: LlmError }
  | { type: 'finish'; reason: FinishReason; error?: LlmError; timing?: CallTiming };

/**
 * A model: returns its event stream at once and never throws; failures end the stream with
 * `finish` carrying an error (after `start` if the call got that far). The one exception is a
 * call that is not over: with a provider limiter, a wait for capacity longer than a worker should
 * hold rejects the iteration with `CapacityWaitError` (nothing was sent), to be tried later.
 */
export type StreamFn = (request: LlmRequest) => AsyncIterable<LlmEvent>;
