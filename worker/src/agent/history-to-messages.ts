import type { AssistantPart, LlmMessage } from '@tern/shared/llm/llm-types';
import type { LogEntry } from '@tern/shared/session/log-entry';

/**
 * The model's view of a session log. Failed or aborted assistant messages are not replayed, and a
 * tool call that never got a result (the worker died, the turn was cancelled) gets a synthetic one,
 * because every provider rejects a tool call left unanswered.
 */
export function historyToMessages(systemPrompt: string, log: readonly LogEntry[]): LlmMessage[] {
  const messages: LlmMessage[] = [];
  if (systemPrompt) messages.push({ role: 'system', content: systemPrompt });
  let open = new Map<string, string>();
  const closeOpenCalls = () => {
    for (const [id, name] of open) {
      messages.push({
        role: 'tool',
        toolCallId: id,
        toolName: name,
        content: 'No result: the tool call was interrupted before it finished.',
        isError: true,
      });
    }
    open = new Map();
  };
  for (const entry of log) {
    switch (entry.kind) {
      case 'user_message':
        closeOpenCalls();
        messages.push({ role: 'user', content: entry.text });
        break;
      case 'assistant_message': {
        if (entry.finishReason === 'error' || entry.finishReason === 'aborted') break;
        closeOpenCalls();
        const parts: AssistantPart[] = [];
        if (entry.reasoning) {
          parts.push(
            entry.reasoningMeta
              ? { type: 'reasoning', text: entry.reasoning, meta: entry.reasoningMeta }
              : { type: 'reasoning', text: entry.reasoning },
          );
        }
        if (entry.text) parts.push({ type: 'text', text: entry.text });
        for (const call of entry.toolCalls) {
          parts.push(
            call.meta
              ? {
                  type: 'tool_call',
                  id: call.id,
                  name: call.name,
                  args: call.args,
                  meta: call.meta,
                }
              : { type: 'tool_call', id: call.id, name: call.name, args: call.args },
          );
          open.set(call.id, call.name);
        }
        messages.push({ role: 'assistant', content: parts, origin: entry.model });
        break;
      }
      case 'tool_finished':
        if (!open.delete(entry.callId)) break;
        messages.push({
          role: 'tool',
          toolCallId: entry.callId,
          toolName: entry.name,
          content: entry.output,
          isError: !entry.ok,
        });
        break;
      default:
        break;
    }
  }
  closeOpenCalls();
  return messages;
}
