import { createOpenAI } from '@ai-sdk/openai';
import { type Context, type Model, stream as piStream, Type } from '@mariozechner/pi-ai';
import { openAiChatAdapter } from '@tern/shared/llm/openai-chat/openai-chat-adapter';
import { chatCompatProfiles } from '@tern/shared/llm/openai-chat/openai-chat-compat';
import { driveStream } from '@tern/shared/llm/stream-driver';
import { jsonSchema, streamText, tool } from 'ai';
import OpenAI from 'openai';

/** What every client must produce from one call, so all of them are shown to do the same work. */
export type CallResult = { text: string; toolArgs: string };

export type Workload = { name: string; prompt: string; withTool: boolean };

export type Client = { name: string; call(workload: Workload): Promise<CallResult> };

export const readFileSchema: { type: 'object'; [key: string]: unknown } = {
  type: 'object',
  properties: { path: { type: 'string' } },
  required: ['path'],
  additionalProperties: false,
};

/** The four ways to stream a Chat Completions call that the benchmark compares. */
export function openAiClients(baseUrl: string): Client[] {
  const raw = new OpenAI({ apiKey: 'bench', baseURL: `${baseUrl}/v1`, maxRetries: 0 });
  const tern = driveStream(
    openAiChatAdapter({
      provider: 'openai-compatible',
      apiKey: 'bench',
      baseURL: `${baseUrl}/v1`,
      compat: chatCompatProfiles.vllm,
    }),
  );
  const piModel: Model<'openai-completions'> = {
    id: 'tern-sim',
    name: 'tern-sim',
    api: 'openai-completions',
    provider: 'openai',
    baseUrl: `${baseUrl}/v1`,
    reasoning: false,
    input: ['text'],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: 128_000,
    maxTokens: 4096,
  };
  const aiSdk = createOpenAI({ apiKey: 'bench', baseURL: `${baseUrl}/v1` });

  return [
    {
      name: 'raw openai SDK',
      async call(w) {
        const result: CallResult = { text: '', toolArgs: '' };
        const s = await raw.chat.completions.create({
          model: 'tern-sim',
          messages: [{ role: 'user', content: w.prompt }],
          stream: true,
          stream_options: { include_usage: true },
          ...(w.withTool
            ? {
                tools: [
                  {
                    type: 'function',
                    function: {
                      name: 'read_file',
                      description: 'Read a file',
                      parameters: readFileSchema,
                    },
                  },
                ],
              }
            : {}),
        });
        for await (const chunk of s) {
          const delta = chunk.choices[0]?.delta;
          if (delta?.content) result.text += delta.content;
          const args = delta?.tool_calls?.[0]?.function?.arguments;
          if (args) result.toolArgs += args;
        }
        return result;
      },
    },
    {
      name: 'tern',
      async call(w) {
        const result: CallResult = { text: '', toolArgs: '' };
        const events = tern({
          model: 'tern-sim',
          messages: [{ role: 'user', content: w.prompt }],
          ...(w.withTool
            ? {
                tools: [
                  { name: 'read_file', description: 'Read a file', parameters: readFileSchema },
                ],
              }
            : {}),
        });
        for await (const e of events) {
          if (e.type === 'text_delta') result.text += e.text;
          else if (e.type === 'tool_call_end') result.toolArgs = e.rawArgs;
          else if (e.type === 'finish' && e.error) throw new Error(e.error.message);
        }
        return result;
      },
    },
    {
      name: 'pi-ai',
      async call(w) {
        const result: CallResult = { text: '', toolArgs: '' };
        const context: Context = {
          messages: [{ role: 'user', content: w.prompt, timestamp: 0 }],
          ...(w.withTool
            ? {
                tools: [
                  {
                    name: 'read_file',
                    description: 'Read a file',
                    parameters: Type.Object({ path: Type.String() }),
                  },
                ],
              }
            : {}),
        };
        for await (const e of piStream(piModel, context, { apiKey: 'bench' })) {
          if (e.type === 'text_delta') result.text += e.delta;
          else if (e.type === 'toolcall_end')
            result.toolArgs = JSON.stringify(e.toolCall.arguments);
          else if (e.type === 'error') throw new Error(e.error.errorMessage ?? 'pi-ai error');
        }
        return result;
      },
    },
    {
      name: 'vercel ai SDK',
      async call(w) {
        const result: CallResult = { text: '', toolArgs: '' };
        const r = streamText({
          model: aiSdk.chat('tern-sim'),
          prompt: w.prompt,
          maxRetries: 0,
          ...(w.withTool
            ? {
                tools: {
                  read_file: tool({
                    description: 'Read a file',
                    inputSchema: jsonSchema(readFileSchema),
                  }),
                },
              }
            : {}),
        });
        for await (const part of r.fullStream) {
          if (part.type === 'text-delta') result.text += part.text;
          else if (part.type === 'tool-call') result.toolArgs = JSON.stringify(part.input);
          else if (part.type === 'error') throw part.error;
        }
        return result;
      },
    },
  ];
}
