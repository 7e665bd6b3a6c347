import type { ModelMessage, ModelRequest } from '../rule-model.ts';
import { countTokens } from '../tokenizer.ts';
import { invalidRequest, type OpenAiErrorBody } from './openai-errors.ts';

/**
 * Parses and validates a Chat Completions request body the way OpenAI does (same checks, same
 * messages and error codes for the ones it implements), and translates it into the wire-neutral
 * `ModelRequest`. Anything the simulator does not use (temperature, n, logprobs…) is accepted and
 * ignored.
 */
export interface ChatRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  stop: string[];
  promptTokens: number;
  /** `modelRequest.reasoning` is set when this asks for thinking (anything but `none`). */
  reasoningEffort: string | undefined;
  /** Tools sent with `tool_choice` `auto`, or with none (vLLM's default once tools are sent). */
  autoToolChoice: boolean;
  modelRequest: ModelRequest;
}

export type ChatRequestParse =
  | { ok: true; request: ChatRequest }
  | { ok: false; error: OpenAiErrorBody };

type Json = Record<string, unknown>;

const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];
const NEUTRAL_ROLES: Record<string, 'system' | 'user' | 'assistant'> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
};
/** What a low-detail image costs on OpenAI; the simulator does not look at pixels. */
const IMAGE_TOKENS = 85;
const BAD_JSON =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

class InvalidRequest extends Error {
  readonly body: OpenAiErrorBody;
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(message);
    this.body = invalidRequest(message, param, code);
  }
}

export function parseChatRequest(bodyText: string): ChatRequestParse {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { ok: false, error: invalidRequest(BAD_JSON) };
  }
  try {
    return { ok: true, request: toChatRequest(body) };
  } catch (error) {
    if (error instanceof InvalidRequest) return { ok: false, error: error.body };
    throw error;
  }
}

function toChatRequest(body: unknown): ChatRequest {
  if (!isJson(body)) throw new InvalidRequest(BAD_JSON);
  if (typeof body.model !== 'string' || body.model === '') {
    throw new InvalidRequest('you must provide a model parameter');
  }
  const { messages, promptTokens } = toModelMessages(body.messages);
  const maxTokens = positiveInt(body, 'max_completion_tokens') ?? positiveInt(body, 'max_tokens');
  const streamOptions = isJson(body.stream_options) ? body.stream_options : {};
  const reasoningEffort =
    typeof body.reasoning_effort === 'string' ? body.reasoning_effort : undefined;
  return {
    model: body.model,
    stream: body.stream === true,
    includeUsage: body.stream === true && streamOptions.include_usage === true,
    maxTokens,
    stop: toStop(body.stop),
    promptTokens,
    reasoningEffort,
    autoToolChoice:
      Array.isArray(body.tools) &&
      body.tools.length > 0 &&
      (body.tool_choice === undefined || body.tool_choice === 'auto'),
    modelRequest: {
      messages,
      toolNames: body.tool_choice === 'none' ? [] : toolNames(body.tools),
      reasoning: reasoningEffort !== undefined && reasoningEffort !== 'none',
    },
  };
}

interface ToolCallRef {
  name: string;
  path: string | undefined;
}

/**
 * Also enforces OpenAI's pairing rule between an assistant's `tool_calls` and the `tool` messages
 * that must follow it, because an adapter that breaks it works against the simulator and fails
 * against the real API otherwise.
 */
function toModelMessages(raw: unknown): { messages: ModelMessage[]; promptTokens: number } {
  if (raw === undefined) {
    throw new InvalidRequest(
      "Missing required parameter: 'messages'.",
      'messages',
      'missing_required_parameter',
    );
  }
  if (!Array.isArray(raw)) {
    throw new InvalidRequest(
      `Invalid type for 'messages': expected an array of objects, but got ${typeName(raw)} instead.`,
      'messages',
      'invalid_type',
    );
  }
  if (raw.length === 0) {
    throw new InvalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }

  const calls = new Map<string, ToolCallRef>();
  let open: { at: number; ids: Set<string> } | undefined;
  const messages: ModelMessage[] = [];
  let promptTokens = 0;

  const closeOpenCalls = () => {
    if (open && open.ids.size > 0) {
      throw new InvalidRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open.ids].join(', ')}`,
        `messages.[${open.at}].role`,
      );
    }
    open = undefined;
  };

  raw.forEach((message: unknown, at) => {
    const where = `messages[${at}]`;
    if (!isJson(message)) {
      throw new InvalidRequest(
        `Invalid type for '${where}': expected an object, but got ${typeName(message)} instead.`,
        where,
        'invalid_type',
      );
    }
    const role = message.role;
    if (role === undefined) {
      throw new InvalidRequest(
        `Missing required parameter: '${where}.role'.`,
        `${where}.role`,
        'missing_required_parameter',
      );
    }
    if (typeof role !== 'string' || !ROLES.includes(role)) {
      throw new InvalidRequest(
        `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `${where}.role`,
        'invalid_value',
      );
    }
    const { text, images } = contentText(message.content);
    promptTokens += countTokens(text) + images * IMAGE_TOKENS;

    if (role === 'tool') {
      const id = message.tool_call_id;
      if (typeof id !== 'string') {
        throw new InvalidRequest(
          `Missing required parameter: '${where}.tool_call_id'.`,
          `${where}.tool_call_id`,
          'missing_required_parameter',
        );
      }
      if (!open?.ids.delete(id)) {
        // "preceeding" is OpenAI's spelling.
        throw new InvalidRequest(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${at}].role`,
        );
      }
      const call = calls.get(id);
      messages.push({ role: 'tool', text, toolName: call?.name, toolPath: call?.path });
      return;
    }

    closeOpenCalls();
    if (role === 'function') {
      const name = typeof message.name === 'string' ? message.name : undefined;
      messages.push({ role: 'tool', text, toolName: name });
      return;
    }
    if (
      role === 'assistant' &&
      Array.isArray(message.tool_calls) &&
      message.tool_calls.length > 0
    ) {
      open = { at, ids: new Set() };
      for (const call of message.tool_calls) {
        if (!isJson(call) || typeof call.id !== 'string' || !isJson(call.function)) continue;
        const name = typeof call.function.name === 'string' ? call.function.name : '';
        const args = typeof call.function.arguments === 'string' ? call.function.arguments : '';
        promptTokens += countTokens(name) + countTokens(args);
        calls.set(call.id, { name, path: pathArgument(args) });
        open.ids.add(call.id);
      }
    }
    messages.push({ role: NEUTRAL_ROLES[role] ?? 'user', text });
  });
  closeOpenCalls();
  return { messages, promptTokens };
}

function contentText(content: unknown): { text: string; images: number } {
  if (typeof content === 'string') return { text: content, images: 0 };
  if (!Array.isArray(content)) return { text: '', images: 0 };
  const texts: string[] = [];
  let images = 0;
  for (const part of content) {
    if (!isJson(part)) continue;
    if (typeof part.text === 'string') texts.push(part.text);
    else if (part.type === 'image_url') images++;
  }
  return { text: texts.join('\n'), images };
}

function pathArgument(args: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(args);
    return isJson(parsed) && typeof parsed.path === 'string' ? parsed.path : undefined;
  } catch {
    return undefined;
  }
}

function toolNames(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown) =>
    isJson(tool) &&
    tool.type === 'function' &&
    isJson(tool.function) &&
    typeof tool.function.name === 'string'
      ? [tool.function.name]
      : [],
  );
}

function toStop(stop: unknown): string[] {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop)) return stop.filter((s): s is string => typeof s === 'string');
  return [];
}

function positiveInt(body: Json, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidRequest(
      `Invalid type for '${key}': expected an integer, but got ${typeName(value)} instead.`,
      key,
      'invalid_type',
    );
  }
  if (value < 1) {
    throw new InvalidRequest(
      `Invalid '${key}': integer below minimum value. Expected a value >= 1, but got ${value} instead.`,
      key,
      'integer_below_min_value',
    );
  }
  return value;
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
