import type { IncomingHttpHeaders } from 'node:http';

/**
 * The OpenAI-compatible servers the Chat Completions route can impersonate, one row each. Every
 * difference between them is a field here that the route's pieces read; no code asks for a
 * dialect by name. Sources: vLLM's `serving_chat.py`, `protocol.py` and tool parsers (the quirks
 * listed in shared/PROVIDERS.md), and what the `openai` SDK does with each.
 */
export interface OpenAiDialect {
  name: OpenAiDialectName;
  /** `call_<24 alphanumerics>` (OpenAI) or `chatcmpl-tool-<32 hex>` (vLLM's `random_tool_call_id`). */
  toolCallIdStyle: 'openai' | 'vllm';
  /**
   * The shape around the deltas. `openai`: `chatcmpl-<29 alphanumerics>` ids, `service_tier` and
   * `system_fingerprint`, usage with its detail blocks, the first tool call folded into the role
   * chunk, `arguments: ""` on a call's first delta. `vllm`: `chatcmpl-<32 hex>`, `stop_reason` on
   * the finish chunk, bare usage, a separate `{role, content: ""}` chunk, a name-only first delta.
   */
  envelope: 'openai' | 'vllm';
  /** The whole argument JSON in one delta after the name (vLLM's hermes and llama3_json parsers). */
  argumentsInOneDelta: boolean;
  /** An argument-less call (`{}`) streams no `arguments` at all (vLLM before PR #21365). */
  omitEmptyArguments: boolean;
  /** `finish_reason: "stop"` although a tool was called (several vLLM versions and parsers). */
  finishStopOnToolCalls: boolean;
  /**
   * The tool parser failed: calls reach the client as `<tool_call>{"name": …, "arguments": …}
   * </tool_call>` text, with finish `stop` and no `tool_calls`.
   */
  leakToolCallsAsText: boolean;
  /**
   * Served with `--enable-auto-tool-choice --tool-call-parser …`. Without them vLLM refuses any
   * request whose tools are on `auto` (the default once `tools` is sent) with a 400 `"auto" tool
   * choice requires …`, before generating; `none`, `required` and a named tool still work.
   */
  autoToolChoice: boolean;
  /**
   * Error bodies: OpenAI's `{error:{message,type,param,code}}`; vLLM's old flat
   * `{object:"error",message,type,param,code:<status>}` (the SDK cannot read its message: it
   * reports "400 status code (no body)"); vLLM's newer `{error:{message,type,param,code:<status>}}`.
   */
  errorShape: 'openai' | 'vllm-legacy' | 'vllm';
  /** OpenAI's or vLLM's wording of the context-window error (vLLM's has no error code). */
  contextOverflowStyle: 'openai' | 'vllm';
  /** The delta field that carries reasoning (vLLM's; OpenAI's Chat Completions streams none). */
  reasoningField: 'reasoning_content' | 'reasoning';
  /** Served with `--reasoning-parser`: every reply thinks first, whatever the request says. */
  alwaysReasons: boolean;
  /** `GET /metrics` also exposes vLLM's `vllm:*` metric names. */
  vllmMetrics: boolean;
}

export const OPENAI_DIALECT_NAMES = [
  'openai',
  'vllm',
  'vllm-hermes',
  'vllm-stop-finish',
  'vllm-new-errors',
  'vllm-reasoning',
  'vllm-no-auto-tools',
] as const;

export type OpenAiDialectName = (typeof OPENAI_DIALECT_NAMES)[number];

const OPENAI: Omit<OpenAiDialect, 'name'> = {
  toolCallIdStyle: 'openai',
  envelope: 'openai',
  argumentsInOneDelta: false,
  omitEmptyArguments: false,
  finishStopOnToolCalls: false,
  leakToolCallsAsText: false,
  autoToolChoice: true,
  errorShape: 'openai',
  contextOverflowStyle: 'openai',
  reasoningField: 'reasoning_content',
  alwaysReasons: false,
  vllmMetrics: false,
};

/** vLLM as most deployments still run it: a hermes-style parser that works, and old errors. */
const VLLM: Omit<OpenAiDialect, 'name'> = {
  toolCallIdStyle: 'vllm',
  envelope: 'vllm',
  argumentsInOneDelta: true,
  omitEmptyArguments: true,
  finishStopOnToolCalls: false,
  leakToolCallsAsText: false,
  autoToolChoice: true,
  errorShape: 'vllm-legacy',
  contextOverflowStyle: 'vllm',
  reasoningField: 'reasoning_content',
  alwaysReasons: false,
  vllmMetrics: true,
};

export const OPENAI_DIALECTS: Readonly<Record<OpenAiDialectName, OpenAiDialect>> = {
  openai: { name: 'openai', ...OPENAI },
  vllm: { name: 'vllm', ...VLLM },
  'vllm-hermes': { name: 'vllm-hermes', ...VLLM, leakToolCallsAsText: true },
  'vllm-stop-finish': { name: 'vllm-stop-finish', ...VLLM, finishStopOnToolCalls: true },
  'vllm-new-errors': { name: 'vllm-new-errors', ...VLLM, errorShape: 'vllm' },
  'vllm-reasoning': { name: 'vllm-reasoning', ...VLLM, alwaysReasons: true },
  'vllm-no-auto-tools': { name: 'vllm-no-auto-tools', ...VLLM, autoToolChoice: false },
};

export const DIALECT_HEADER = 'x-tern-sim-dialect';

export function isOpenAiDialectName(value: string): value is OpenAiDialectName {
  return (OPENAI_DIALECT_NAMES as readonly string[]).includes(value);
}

export type DialectChoice =
  | { ok: true; dialect: OpenAiDialect }
  | { ok: false; header: string; message: string };

/** The request's dialect header wins over the server's dialect. */
export function chooseDialect(
  headers: IncomingHttpHeaders,
  fallback: OpenAiDialect,
): DialectChoice {
  const raw = headers[DIALECT_HEADER];
  if (raw === undefined) return { ok: true, dialect: fallback };
  const value = typeof raw === 'string' ? raw.trim() : '';
  if (isOpenAiDialectName(value)) return { ok: true, dialect: OPENAI_DIALECTS[value] };
  return {
    ok: false,
    header: DIALECT_HEADER,
    message: `Invalid '${DIALECT_HEADER}' header: expected one of ${OPENAI_DIALECT_NAMES.join(', ')}.`,
  };
}

/** The finish reason the dialect reports for the reply's own. */
export function dialectFinish<R extends string>(dialect: OpenAiDialect, reason: R): R | 'stop' {
  return dialect.finishStopOnToolCalls && reason === 'tool_calls' ? 'stop' : reason;
}
