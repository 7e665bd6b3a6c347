import type { Content, Part } from '@google/genai';
import type { AssistantPart, LlmMessage, ProviderMeta } from '../llm-types.ts';

/**
 * Tern history → Gemini `contents` and `systemInstruction`.
 * - System messages join the system instruction (Gemini has no system role).
 * - Assistant turns become `model` contents. Thought signatures go back unchanged on the part that
 *   carried them (a call, a text, or a thought part for reasoning), and only when Gemini produced
 *   them; reasoning of another provider is dropped.
 * - A model step whose calls carry no Gemini signature (a history from another provider or model)
 *   gets Google's documented placeholder on its first call: Gemini 3 refuses a call turn of the
 *   current exchange without one.
 * - Consecutive tool results become one `user` content of `functionResponse` parts, `{output}` or
 *   `{error}` as Google's examples do. Ids are not sent: Gemini pairs responses with calls by
 *   order and name, and most ids in a history are Tern's own, which would mean nothing to it.
 */
export const GEMINI_PROVIDER = 'gemini';
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

export interface GeminiPrompt {
  contents: Content[];
  systemInstruction?: Content;
}

export function toGeminiContents(messages: readonly LlmMessage[]): GeminiPrompt {
  const contents: Content[] = [];
  const system: Part[] = [];
  let results: Part[] | undefined;
  for (const message of messages) {
    if (message.role !== 'tool') results = undefined;
    switch (message.role) {
      case 'system':
        system.push({ text: message.content });
        break;
      case 'user':
        contents.push({ role: 'user', parts: [{ text: message.content }] });
        break;
      case 'assistant': {
        const parts = modelParts(message.content);
        if (parts.length > 0) contents.push({ role: 'model', parts });
        break;
      }
      case 'tool': {
        const response = message.isError ? { error: message.content } : { output: message.content };
        const part: Part = { functionResponse: { name: message.toolName, response } };
        if (results) results.push(part);
        else {
          results = [part];
          contents.push({ role: 'user', parts: results });
        }
        break;
      }
    }
  }
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}

function modelParts(content: readonly AssistantPart[]): Part[] {
  const parts: Part[] = [];
  let firstCall: Part | undefined;
  for (const part of content) {
    const signature = geminiSignature(part.meta);
    switch (part.type) {
      case 'reasoning':
        if (part.meta?.provider === GEMINI_PROVIDER)
          parts.push(signed({ text: part.text, thought: true }, signature));
        break;
      case 'text':
        if (part.text !== '' || signature) parts.push(signed({ text: part.text }, signature));
        break;
      case 'tool_call': {
        const call = signed({ functionCall: { name: part.name, args: part.args } }, signature);
        firstCall ??= call;
        parts.push(call);
        break;
      }
    }
  }
  const signedCall = parts.some((p) => p.functionCall && p.thoughtSignature);
  if (firstCall && !signedCall) firstCall.thoughtSignature = SKIP_SIGNATURE;
  return parts;
}

function geminiSignature(meta: ProviderMeta | undefined): string | undefined {
  return meta?.provider === GEMINI_PROVIDER ? meta.signature : undefined;
}

function signed(part: Part, signature: string | undefined): Part {
  return signature ? { ...part, thoughtSignature: signature } : part;
}
