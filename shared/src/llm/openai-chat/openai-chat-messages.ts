import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { LlmMessage, ToolSpec } from '../llm-types.ts';

/** Tern history → Chat Completions `messages`. Reasoning is not replayed: the API has no field. */
export function toOpenAiMessages(messages: LlmMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'user':
        out.push({ role: message.role, content: message.content });
        break;
      case 'assistant': {
        let text = '';
        const toolCalls: {
          id: string;
          type: 'function';
          function: { name: string; arguments: string };
        }[] = [];
        for (const part of message.content) {
          if (part.type === 'text') text += part.text;
          else if (part.type === 'tool_call')
            toolCalls.push({
              id: part.id,
              type: 'function',
              function: { name: part.name, arguments: JSON.stringify(part.args) },
            });
        }
        out.push(
          toolCalls.length > 0
            ? { role: 'assistant', content: text === '' ? null : text, tool_calls: toolCalls }
            : { role: 'assistant', content: text },
        );
        break;
      }
      case 'tool':
        out.push({ role: 'tool', tool_call_id: message.toolCallId, content: message.content });
        break;
    }
  }
  return out;
}

export function toOpenAiTools(tools: ToolSpec[]): ChatCompletionTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}
