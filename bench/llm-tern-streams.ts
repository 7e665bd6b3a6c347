import { anthropicAdapter } from '@tern/shared/llm/anthropic/anthropic-adapter';
import { geminiAdapter } from '@tern/shared/llm/gemini/gemini-adapter';
import type { StreamFn } from '@tern/shared/llm/llm-types';
import { openAiChatAdapter } from '@tern/shared/llm/openai-chat/openai-chat-adapter';
import { chatCompatProfiles } from '@tern/shared/llm/openai-chat/openai-chat-compat';
import { driveStream } from '@tern/shared/llm/stream-driver';

/** Tern's layer for each provider, pointed at the simulator. */
export function ternStreams(url: string): { name: string; model: string; stream: StreamFn }[] {
  return [
    {
      name: 'openai-compatible',
      model: 'tern-sim',
      stream: driveStream(
        openAiChatAdapter({
          provider: 'openai-compatible',
          apiKey: 'bench',
          baseURL: `${url}/v1`,
          compat: chatCompatProfiles.vllm,
        }),
      ),
    },
    {
      name: 'anthropic',
      model: 'claude-sonnet-4-5',
      stream: driveStream(anthropicAdapter({ apiKey: 'sk-ant-bench', baseURL: url })),
    },
    {
      name: 'gemini',
      model: 'gemini-2.5-flash',
      stream: driveStream(geminiAdapter({ apiKey: 'AIza-bench', baseUrl: url })),
    },
  ];
}
