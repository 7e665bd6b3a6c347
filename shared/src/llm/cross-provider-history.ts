import type { AssistantPart, LlmMessage } from './llm-types.ts';

/** Tool-call id rules per provider: what its API accepts in a replayed history. */
const idRules: Record<string, { pattern: RegExp; maxLength: number }> = {
  anthropic: { pattern: /^[a-zA-Z0-9_-]+$/, maxLength: 64 },
  openai: { pattern: /^[\x21-\x7e]+$/, maxLength: 40 },
  'openai-compatible': { pattern: /^[\x21-\x7e]+$/, maxLength: 40 },
  gemini: { pattern: /^[a-zA-Z0-9_.-]+$/, maxLength: 64 },
};

const providerOf = (origin: string | undefined) => origin?.slice(0, origin.indexOf(':'));

/**
 * Makes a history that other providers (or this one) produced acceptable to `target`:
 * - reasoning and signatures of another provider are dropped (they are opaque to the target and
 *   some providers reject foreign signatures);
 * - tool-call ids are rewritten where the target would refuse them, consistently in the calls
 *   and their results;
 * - a tool call without a result gets a synthetic "no result" entry, and a result without a call
 *   is dropped, since every provider rejects unpaired calls and results;
 * - assistant messages left empty are dropped.
 * Returns the input unchanged (same array) when nothing needs translating, which is the common case.
 */
export function prepareHistory(messages: readonly LlmMessage[], target: string): LlmMessage[] {
  if (!needsWork(messages, target)) return messages as LlmMessage[];
  const rule = idRules[target];
  const renamed = new Map<string, string>();
  const used = new Set<string>();
  const rename = (id: string): string => {
    const existing = renamed.get(id);
    if (existing) return existing;
    let next = id;
    if (rule && (!rule.pattern.test(id) || id.length > rule.maxLength)) {
      next = id.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, rule.maxLength - 6) || 'call';
    }
    let unique = next;
    for (let n = 1; used.has(unique); n++)
      unique = `${next.slice(0, rule ? rule.maxLength - 6 : 58)}_${n}`;
    used.add(unique);
    renamed.set(id, unique);
    return unique;
  };

  const out: LlmMessage[] = [];
  let open = new Map<string, string>();
  const closeOpen = () => {
    for (const [id, name] of open) {
      out.push({
        role: 'tool',
        toolCallId: id,
        toolName: name,
        content: 'No result: the tool call was interrupted before it finished.',
        isError: true,
      });
    }
    open = new Map();
  };
  for (const message of messages) {
    if (message.role === 'assistant') {
      closeOpen();
      const foreign = providerOf(message.origin) !== target;
      const parts: AssistantPart[] = [];
      for (const part of message.content) {
        if (part.type === 'reasoning') {
          if (!foreign) parts.push(part);
        } else if (part.type === 'tool_call') {
          const id = rename(part.id);
          open.set(id, part.name);
          const { meta, ...rest } = part;
          parts.push(foreign || meta === undefined ? { ...rest, id } : { ...part, id });
        } else {
          parts.push(foreign && part.meta ? { type: 'text', text: part.text } : part);
        }
      }
      if (parts.length > 0) out.push({ ...message, content: parts });
    } else if (message.role === 'tool') {
      const id = renamed.get(message.toolCallId) ?? message.toolCallId;
      if (!open.delete(id)) continue;
      out.push(id === message.toolCallId ? message : { ...message, toolCallId: id });
    } else {
      closeOpen();
      out.push(message);
    }
  }
  closeOpen();
  return out;
}

/** A cheap scan: only histories with foreign turns, odd ids or unpaired calls are rewritten. */
function needsWork(messages: readonly LlmMessage[], target: string): boolean {
  const rule = idRules[target];
  const open = new Set<string>();
  for (const message of messages) {
    if (message.role === 'assistant') {
      if (open.size > 0) return true;
      if (message.content.length === 0) return true;
      if (message.origin !== undefined && providerOf(message.origin) !== target) return true;
      for (const part of message.content) {
        if (part.type !== 'tool_call') continue;
        if (rule && (!rule.pattern.test(part.id) || part.id.length > rule.maxLength)) return true;
        open.add(part.id);
      }
    } else if (message.role === 'tool') {
      if (!open.delete(message.toolCallId)) return true;
    } else if (open.size > 0) {
      return true;
    }
  }
  return open.size > 0;
}
