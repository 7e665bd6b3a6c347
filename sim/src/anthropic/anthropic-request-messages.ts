import type { ModelMessage } from '../rule-model.ts';
import { countTokens } from '../tokenizer.ts';
import { InvalidRequest, isObject, type Json } from './anthropic-invalid.ts';
import { isValidSignature } from './anthropic-thinking.ts';

/**
 * Validates `messages` as the Messages API does and translates it into the rule model's messages.
 * Checks that catch real adapter bugs are implemented with the API's wording: roles, non-empty
 * content, block types per role, text blocks that are not empty, tool ids, the pairing of every
 * `tool_use` with a `tool_result` at the head of the next user turn, and thinking signatures.
 * Consecutive turns of one role are merged first, as the API documents.
 */
export interface ParsedMessages {
  messages: ModelMessage[];
  promptTokens: number;
}

/** Roughly what one image of about 1092×1092 pixels costs on Anthropic ((w×h)/750). */
const IMAGE_TOKENS = 1600;
const TOOL_ID = /^[a-zA-Z0-9_-]+$/;
const BLOCK_TYPES = [
  'text',
  'image',
  'document',
  'search_result',
  'tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
];
const ASSISTANT_ONLY = new Set(['tool_use', 'thinking', 'redacted_thinking']);
const USER_ONLY = new Set(['tool_result', 'image', 'document', 'search_result']);

type Role = 'user' | 'assistant';
interface Block {
  value: Json;
  at: string;
}
interface Turn {
  role: Role;
  /** Index of the turn's last message, for error locations. */
  last: number;
  blocks: Block[];
}
interface ToolUseRef {
  name: string;
  path: string | undefined;
}

export function parseMessages(raw: unknown): ParsedMessages {
  if (raw === undefined) throw new InvalidRequest('messages: Field required');
  if (!Array.isArray(raw)) throw new InvalidRequest('messages: Input should be a valid list');
  if (raw.length === 0) throw new InvalidRequest('messages: at least one message is required');

  const system: ModelMessage[] = [];
  const turns: Turn[] = [];
  let promptTokens = 0;
  raw.forEach((message: unknown, i) => {
    const where = `messages.${i}`;
    if (!isObject(message))
      throw new InvalidRequest(`${where}: Input should be a valid dictionary`);
    const role = message.role;
    if (role !== 'user' && role !== 'assistant' && role !== 'system') {
      throw new InvalidRequest(`${where}.role: Input should be 'user', 'assistant' or 'system'`);
    }
    const blocks = contentBlocks(message.content, `${where}.content`);
    const finalAssistant = role === 'assistant' && i === raw.length - 1;
    if (blocks.length === 0 && !finalAssistant) {
      throw new InvalidRequest(
        `${where}: all messages must have non-empty content except for the optional final assistant message`,
      );
    }
    if (role === 'system') {
      const text = blocks.map((b) => systemText(b, where)).join('\n');
      promptTokens += countTokens(text);
      system.push({ role: 'system', text });
      return;
    }
    for (const block of blocks) checkBlock(block, role, finalAssistant);
    const previous = turns.at(-1);
    if (previous?.role === role) {
      previous.blocks.push(...blocks);
      previous.last = i;
    } else turns.push({ role, last: i, blocks });
  });
  if (turns[0]?.role !== 'user') {
    throw new InvalidRequest('messages: first message must use the "user" role');
  }
  checkFinalWhitespace(turns.at(-1));

  const messages: ModelMessage[] = [...system];
  const calls = new Map<string, ToolUseRef>();
  let pending: { ids: Set<string>; at: number } | undefined;
  for (const turn of turns) {
    if (turn.role === 'assistant') {
      const text: string[] = [];
      const ids = new Set<string>();
      for (const { value, at } of turn.blocks) {
        if (value.type === 'text') text.push(value.text as string);
        if (value.type !== 'tool_use') continue;
        const id = value.id as string;
        if (calls.has(id)) throw new InvalidRequest(`${at}: \`tool_use\` ids must be unique`);
        const input = JSON.stringify(value.input);
        promptTokens += countTokens(value.name as string) + countTokens(input);
        calls.set(id, { name: value.name as string, path: pathOf(value.input) });
        ids.add(id);
      }
      const joined = text.join('');
      promptTokens += countTokens(joined);
      messages.push({ role: 'assistant', text: joined });
      pending = ids.size > 0 ? { ids, at: turn.last } : undefined;
      continue;
    }
    // Only the leading run of tool_result blocks answers the previous turn's calls.
    let leading = true;
    const text: string[] = [];
    for (const { value, at } of turn.blocks) {
      if (value.type !== 'tool_result') {
        leading = false;
        if (value.type === 'text') text.push(value.text as string);
        else promptTokens += IMAGE_TOKENS;
        continue;
      }
      const id = value.tool_use_id as string;
      if (!(leading && pending?.ids.delete(id))) {
        if (pending?.ids.has(id)) break; // reported below as an unanswered call
        throw new InvalidRequest(
          `${at}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
      const result = toolResultText(value.content);
      promptTokens += countTokens(result.text) + result.images * IMAGE_TOKENS;
      const call = calls.get(id);
      messages.push({
        role: 'tool',
        text: result.text,
        toolName: call?.name,
        toolPath: call?.path,
      });
    }
    checkAnswered(pending);
    pending = undefined;
    if (text.length > 0) {
      const joined = text.join('\n');
      promptTokens += countTokens(joined);
      messages.push({ role: 'user', text: joined });
    }
  }
  checkAnswered(pending);
  return { messages, promptTokens };
}

function checkAnswered(pending: { ids: Set<string>; at: number } | undefined): void {
  if (!pending || pending.ids.size === 0) return;
  throw new InvalidRequest(
    `messages.${pending.at}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${[...pending.ids].join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
  );
}

function contentBlocks(content: unknown, where: string): Block[] {
  if (content === undefined) throw new InvalidRequest(`${where}: Field required`);
  if (typeof content === 'string') {
    return content === '' ? [] : [{ value: { type: 'text', text: content }, at: where }];
  }
  if (!Array.isArray(content)) throw new InvalidRequest(`${where}: Input should be a valid list`);
  return content.map((value: unknown, j) => {
    const at = `${where}.${j}`;
    if (!isObject(value)) throw new InvalidRequest(`${at}: Input should be a valid dictionary`);
    if (typeof value.type !== 'string' || !BLOCK_TYPES.includes(value.type)) {
      throw new InvalidRequest(
        `${at}: Input tag '${String(value.type)}' found using 'type' does not match any of the expected tags: ${BLOCK_TYPES.map((t) => `'${t}'`).join(', ')}`,
      );
    }
    return { value, at };
  });
}

function checkBlock({ value, at }: Block, role: Role, finalAssistant: boolean): void {
  const type = value.type as string;
  if (
    (role === 'user' && ASSISTANT_ONLY.has(type)) ||
    (role === 'assistant' && USER_ONLY.has(type))
  ) {
    throw new InvalidRequest(`${at}: \`${type}\` blocks are not allowed in \`${role}\` messages`);
  }
  switch (type) {
    case 'text':
      if (typeof value.text !== 'string') throw new InvalidRequest(`${at}.text: Field required`);
      // The API refuses empty text blocks anywhere but in a prefill.
      if (value.text === '' && !finalAssistant) {
        throw new InvalidRequest('messages: text content blocks must be non-empty');
      }
      return;
    case 'tool_use':
      if (typeof value.id !== 'string' || !TOOL_ID.test(value.id)) {
        throw new InvalidRequest(
          `${at}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`,
        );
      }
      if (typeof value.name !== 'string')
        throw new InvalidRequest(`${at}.tool_use.name: Field required`);
      if (!isObject(value.input)) {
        throw new InvalidRequest(`${at}.tool_use.input: Input should be a valid dictionary`);
      }
      return;
    case 'tool_result':
      if (typeof value.tool_use_id !== 'string') {
        throw new InvalidRequest(`${at}.tool_result.tool_use_id: Field required`);
      }
      if (value.is_error !== undefined && typeof value.is_error !== 'boolean') {
        throw new InvalidRequest(`${at}.tool_result.is_error: Input should be a valid boolean`);
      }
      return;
    case 'thinking':
      if (typeof value.thinking !== 'string') {
        throw new InvalidRequest(`${at}.thinking.thinking: Field required`);
      }
      if (typeof value.signature !== 'string') {
        throw new InvalidRequest(`${at}.thinking.signature: Field required`);
      }
      if (!isValidSignature(value.thinking, value.signature)) {
        throw new InvalidRequest(`${at}: Invalid \`signature\` in \`thinking\` block`);
      }
      return;
    case 'redacted_thinking':
      if (typeof value.data !== 'string') {
        throw new InvalidRequest(`${at}.redacted_thinking.data: Field required`);
      }
      return;
  }
}

function checkFinalWhitespace(turn: Turn | undefined): void {
  if (turn?.role !== 'assistant') return;
  const last = turn.blocks.at(-1)?.value;
  if (last?.type === 'text' && /\s$/.test(last.text as string)) {
    throw new InvalidRequest(
      'messages: final assistant content cannot end with trailing whitespace',
    );
  }
}

function systemText({ value, at }: Block, where: string): string {
  if (value.type !== 'text' || typeof value.text !== 'string') {
    throw new InvalidRequest(
      `${where}.content: system messages may only contain text blocks (${at})`,
    );
  }
  return value.text;
}

function toolResultText(content: unknown): { text: string; images: number } {
  if (typeof content === 'string') return { text: content, images: 0 };
  if (!Array.isArray(content)) return { text: '', images: 0 };
  const texts: string[] = [];
  let images = 0;
  for (const block of content) {
    if (!isObject(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else images++;
  }
  return { text: texts.join('\n'), images };
}

function pathOf(input: unknown): string | undefined {
  return isObject(input) && typeof input.path === 'string' ? input.path : undefined;
}
