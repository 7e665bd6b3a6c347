import type { ModelRequest } from '../rule-model.ts';
import { countTokens } from '../tokenizer.ts';
import type { AnthropicErrorResponse } from './anthropic-errors.ts';
import { invalidRequest } from './anthropic-errors.ts';
import { InvalidRequest, isObject, type Json } from './anthropic-invalid.ts';
import { parseMessages } from './anthropic-request-messages.ts';
import type { ThinkingMode } from './anthropic-thinking.ts';

/**
 * Parses and validates a Messages request body as the API does (field errors worded the pydantic
 * way the API words them), and translates it into the wire-neutral `ModelRequest`. Fields the sim
 * does not act on are accepted if the API knows them and refused otherwise, so an adapter that
 * sends another dialect's fields (`stop`, `max_completion_tokens`) fails here as it would there.
 */
export interface AnthropicRequest {
  model: string;
  stream: boolean;
  maxTokens: number;
  stop: string[];
  thinking: ThinkingMode;
  promptTokens: number;
  modelRequest: ModelRequest;
}

export type AnthropicRequestParse =
  | { ok: true; request: AnthropicRequest }
  | { ok: false; error: AnthropicErrorResponse };

/** What `MessageCreateParams` sends (SDK 1.x), plus the sampling fields of older API versions. */
const KNOWN_FIELDS = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'stop_sequences',
  'stream',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  'service_tier',
  'container',
  'cache_control',
  'diagnostics',
  'inference_geo',
  'output_config',
  'speed',
  'mcp_servers',
  'context_management',
  'temperature',
  'top_p',
  'top_k',
]);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const MIN_THINKING_BUDGET = 1024;

export function parseAnthropicRequest(bodyText: string): AnthropicRequestParse {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: invalidRequest(`Invalid JSON in request body: ${reason}`) };
  }
  try {
    return { ok: true, request: toRequest(body) };
  } catch (error) {
    if (error instanceof InvalidRequest) return { ok: false, error: invalidRequest(error.message) };
    throw error;
  }
}

function toRequest(body: unknown): AnthropicRequest {
  if (!isObject(body)) throw new InvalidRequest('Input should be a valid dictionary');
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) throw new InvalidRequest(`${key}: Extra inputs are not permitted`);
  }
  if (body.model === undefined) throw new InvalidRequest('model: Field required');
  if (typeof body.model !== 'string' || body.model === '') {
    throw new InvalidRequest('model: Input should be a valid string');
  }
  const maxTokens = parseMaxTokens(body.max_tokens);
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw new InvalidRequest('stream: Input should be a valid boolean');
  }
  if (
    body.temperature !== undefined &&
    (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 1)
  ) {
    throw new InvalidRequest('temperature: Input should be a number between 0 and 1');
  }
  const systemText = parseSystem(body.system);
  const { messages, promptTokens } = parseMessages(body.messages);
  const tools = parseTools(body.tools);
  const choice = parseToolChoice(body.tool_choice);
  const thinking = parseThinking(body, maxTokens, choice);
  const toolNames =
    choice?.type === 'none'
      ? []
      : choice?.type === 'tool'
        ? tools.filter((n) => n === choice.name)
        : tools;
  const modelMessages =
    systemText === '' ? messages : [{ role: 'system' as const, text: systemText }, ...messages];
  const betweenTools = thinking === 'between_tools';
  const lastIsToolResult = modelMessages.at(-1)?.role === 'tool';
  // `between_tools` thinks only when the turn resumes after tool results.
  const mode: ThinkingMode =
    thinking === undefined || (betweenTools && !lastIsToolResult)
      ? { enabled: false }
      : { enabled: true, omitted: betweenTools ? false : thinking.omitted };
  return {
    model: body.model,
    stream: body.stream === true,
    maxTokens,
    stop: parseStop(body.stop_sequences),
    thinking: mode,
    promptTokens: promptTokens + countTokens(systemText),
    modelRequest: { messages: modelMessages, toolNames, reasoning: mode.enabled },
  };
}

function parseMaxTokens(value: unknown): number {
  if (value === undefined) throw new InvalidRequest('max_tokens: Field required');
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidRequest('max_tokens: Input should be a valid integer');
  }
  // 0 is valid: it warms the prompt cache without generating (SDK 1.x documentation).
  if (value < 0) throw new InvalidRequest('max_tokens: Input should be greater than or equal to 0');
  return value;
}

function parseSystem(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw new InvalidRequest('system: Input should be a valid string');
  return value
    .map((block: unknown, i) => {
      if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string') {
        throw new InvalidRequest(`system.${i}: Input should be a valid text block`);
      }
      if (block.text === '')
        throw new InvalidRequest('system: text content blocks must be non-empty');
      return block.text;
    })
    .join('\n');
}

function parseStop(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new InvalidRequest('stop_sequences: Input should be a valid list');
  return value.map((s: unknown, i) => {
    if (typeof s !== 'string')
      throw new InvalidRequest(`stop_sequences.${i}: Input should be a valid string`);
    return s;
  });
}

/** Names of the custom tools; server tools (typed `web_search_…` and the like) are accepted and ignored. */
function parseTools(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidRequest('tools: Input should be a valid list');
  const names: string[] = [];
  value.forEach((tool: unknown, i) => {
    const where = `tools.${i}`;
    if (!isObject(tool)) throw new InvalidRequest(`${where}: Input should be a valid dictionary`);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') return;
    if (typeof tool.name !== 'string')
      throw new InvalidRequest(`${where}.custom.name: Field required`);
    if (!TOOL_NAME.test(tool.name)) {
      throw new InvalidRequest(
        `${where}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`,
      );
    }
    if (tool.input_schema === undefined) {
      throw new InvalidRequest(`${where}.custom.input_schema: Field required`);
    }
    if (!isObject(tool.input_schema) || tool.input_schema.type !== 'object') {
      throw new InvalidRequest(`${where}.custom.input_schema.type: Input should be 'object'`);
    }
    if (tool.description !== undefined && typeof tool.description !== 'string') {
      throw new InvalidRequest(`${where}.custom.description: Input should be a valid string`);
    }
    if (names.includes(tool.name)) throw new InvalidRequest('tools: Tool names must be unique.');
    names.push(tool.name);
  });
  return names;
}

type ToolChoice = { type: 'auto' | 'any' | 'none' } | { type: 'tool'; name: string };

function parseToolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new InvalidRequest('tool_choice: Input should be a valid dictionary');
  const type = value.type;
  if (type === 'auto' || type === 'any' || type === 'none') return { type };
  if (type === 'tool') {
    if (typeof value.name !== 'string')
      throw new InvalidRequest('tool_choice.tool.name: Field required');
    return { type, name: value.name };
  }
  throw new InvalidRequest(
    `tool_choice: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`,
  );
}

type Thinking = { omitted: boolean } | 'between_tools' | undefined;

function parseThinking(body: Json, maxTokens: number, choice: ToolChoice | undefined): Thinking {
  const value = body.thinking;
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new InvalidRequest('thinking: Input should be a valid dictionary');
  const type = value.type;
  if (type === 'disabled') return undefined;
  if (type === 'between_tools') return 'between_tools';
  if (type !== 'enabled' && type !== 'adaptive') {
    throw new InvalidRequest(
      `thinking: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'between_tools', 'adaptive'`,
    );
  }
  if (type === 'enabled') {
    const budget = value.budget_tokens;
    if (budget === undefined)
      throw new InvalidRequest('thinking.enabled.budget_tokens: Field required');
    if (typeof budget !== 'number' || !Number.isInteger(budget)) {
      throw new InvalidRequest('thinking.enabled.budget_tokens: Input should be a valid integer');
    }
    if (budget < MIN_THINKING_BUDGET) {
      throw new InvalidRequest(
        `thinking.enabled.budget_tokens: Input should be greater than or equal to ${MIN_THINKING_BUDGET}`,
      );
    }
    if (maxTokens <= budget) {
      throw new InvalidRequest(
        '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size',
      );
    }
  }
  if (choice?.type === 'any' || choice?.type === 'tool') {
    throw new InvalidRequest('Thinking may not be enabled when tool_choice forces tool use.');
  }
  if (body.temperature !== undefined && body.temperature !== 1) {
    throw new InvalidRequest(
      '`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility',
    );
  }
  const display = value.display;
  if (
    display !== undefined &&
    display !== null &&
    display !== 'summarized' &&
    display !== 'omitted'
  ) {
    throw new InvalidRequest("thinking.display: Input should be 'summarized' or 'omitted'");
  }
  return { omitted: display === 'omitted' };
}
