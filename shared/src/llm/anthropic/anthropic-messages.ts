import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages';
import type {
  AssistantPart,
  LlmMessage,
  LlmRequest,
  ReasoningEffort,
  ToolSpec,
} from '../llm-types.ts';

/** `max_tokens` is required by the Messages API; this is what Tern asks for when the caller did not. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Thinking budget per effort. The API's minimum budget is 1024. */
export const THINKING_BUDGETS: Record<ReasoningEffort, number> = {
  low: 1024,
  medium: 4096,
  high: 16_384,
};

/**
 * Tern request → Messages API body (streamed).
 * - Thinking is only requested when the tool choice leaves the model free: the API refuses thinking
 *   with a forced tool. Thinking counts against `max_tokens`, which must exceed the budget, so the
 *   budget comes on top of an answer allowance that would not hold it.
 * - `temperature` is not sent: the SDK's `MessageCreateParams` (API version 2026-10-21) has no
 *   sampling fields any more, and the API refuses fields it does not know.
 */
export function toAnthropicBody(request: LlmRequest): MessageCreateParamsStreaming {
  const { system, messages } = toAnthropicMessages(request.messages);
  const tools = request.tools && request.tools.length > 0 ? request.tools : undefined;
  const choice = tools ? toToolChoice(request.toolChoice) : undefined;
  const forced = choice?.type === 'any' || choice?.type === 'tool';
  const budget =
    request.reasoningEffort && !forced ? THINKING_BUDGETS[request.reasoningEffort] : undefined;
  const answer = request.maxTokens ?? DEFAULT_MAX_TOKENS;

  const body: MessageCreateParamsStreaming = {
    model: request.model,
    max_tokens: budget !== undefined && answer <= budget ? budget + answer : answer,
    messages,
    stream: true,
  };
  if (system !== undefined) body.system = system;
  if (tools) body.tools = toAnthropicTools(tools);
  if (choice) body.tool_choice = choice;
  if (request.stop && request.stop.length > 0) body.stop_sequences = request.stop;
  if (budget !== undefined) body.thinking = { type: 'enabled', budget_tokens: budget };
  return body;
}

/**
 * Tern history → `system` + `messages`. System messages are hoisted to the top-level field;
 * consecutive messages of one role merge into one turn, so a run of tool results becomes one user
 * message whose `tool_result` blocks come first, as the API requires.
 */
export function toAnthropicMessages(history: readonly LlmMessage[]): {
  system: string | undefined;
  messages: MessageParam[];
} {
  const system: string[] = [];
  const messages: MessageParam[] = [];
  const append = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    if (last?.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of history) {
    switch (message.role) {
      case 'system':
        system.push(message.content);
        break;
      case 'user':
        // The API refuses empty text blocks.
        if (message.content !== '') append('user', [{ type: 'text', text: message.content }]);
        break;
      case 'assistant':
        append('assistant', message.content.flatMap(assistantBlock));
        break;
      case 'tool':
        append('user', [
          {
            type: 'tool_result',
            tool_use_id: message.toolCallId,
            content: message.content,
            ...(message.isError ? { is_error: true } : {}),
          },
        ]);
        break;
    }
  }
  return { system: system.length > 0 ? system.join('\n\n') : undefined, messages };
}

/**
 * Thinking is replayed only with a signature Anthropic issued; anything else is dropped (the
 * driver's history step already strips other providers' reasoning; this is the last guard).
 */
function assistantBlock(part: AssistantPart): ContentBlockParam[] {
  switch (part.type) {
    case 'text':
      return part.text === '' ? [] : [{ type: 'text', text: part.text }];
    case 'reasoning':
      return part.meta?.provider === 'anthropic' && part.meta.signature !== undefined
        ? [{ type: 'thinking', thinking: part.text, signature: part.meta.signature }]
        : [];
    case 'tool_call':
      return [{ type: 'tool_use', id: part.id, name: part.name, input: part.args }];
  }
}

export function toAnthropicTools(tools: readonly ToolSpec[]): Tool[] {
  return tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    // The API insists on an object schema at the top.
    input_schema: { ...tool.parameters, type: 'object' },
  }));
}

function toToolChoice(choice: LlmRequest['toolChoice']): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice === 'object') return { type: 'tool', name: choice.name };
  if (choice === 'required') return { type: 'any' };
  return { type: choice };
}
