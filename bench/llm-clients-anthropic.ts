import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic from '@anthropic-ai/sdk';
import { type Context, type Model, stream as piStream, Type } from '@mariozechner/pi-ai';
import { anthropicAdapter } from '@tern/shared/llm/anthropic/anthropic-adapter';
import { driveStream } from '@tern/shared/llm/stream-driver';
import { jsonSchema, streamText, tool } from 'ai';
import { type CallResult, type Client, readFileSchema } from './llm-clients.ts';

const MODEL = 'claude-sonnet-4-5';
const MAX_TOKENS = 4096;

/** The four ways to stream an Anthropic Messages call that the benchmark compares. */
export function anthropicClients(baseUrl: string): Client[] {
  const raw = new Anthropic({ apiKey: 'sk-ant-bench', baseURL: baseUrl, maxRetries: 0 });
  const tern = driveStream(anthropicAdapter({ apiKey: 'sk-ant-bench', baseURL: baseUrl }));
  const piModel: Model<'anthropic-messages'> = {
    id: MODEL,
    name: MODEL,
    api: 'anthropic-messages',
    provider: 'anthropic',
    baseUrl,
    reasoning: false,
    input: ['text'],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: 200_000,
    maxTokens: MAX_TOKENS,
  };
  const aiSdk = createAnthropic({ apiKey: 'sk-ant-bench', baseURL: `${baseUrl}/v1` });
  const description = 'Read a file';

  return [
    {
      name: 'raw anthropic SDK',
      async call(w) {
        const result: CallResult = { text: '', toolArgs: '' };
        const s = await raw.messages.create({
          model: MODEL,
          max_tokens: MAX_TOKENS,
          messages: [{ role: 'user', content: w.prompt }],
          stream: true,
          ...(w.withTool
            ? { tools: [{ name: 'read_file', description, input_schema: readFileSchema }] }
            : {}),
        });
        for await (const event of s) {
          if (event.type === 'content_block_delta') {
            if (event.delta.type === 'text_delta') result.text += event.delta.text;
            else if (event.delta.type === 'input_json_delta')
              result.toolArgs += event.delta.partial_json;
          }
        }
        return result;
      },
    },
    {
      name: 'tern',
      async call(w) {
        const result: CallResult = { text: '', toolArgs: '' };
        for await (const e of tern({
          model: MODEL,
          maxTokens: MAX_TOKENS,
          messages: [{ role: 'user', content: w.prompt }],
          ...(w.withTool
            ? { tools: [{ name: 'read_file', description, parameters: readFileSchema }] }
            : {}),
        })) {
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
                    description,
                    parameters: Type.Object({ path: Type.String() }),
                  },
                ],
              }
            : {}),
        };
        for await (const e of piStream(piModel, context, {
          apiKey: 'sk-ant-bench',
          maxTokens: MAX_TOKENS,
        })) {
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
          model: aiSdk(MODEL),
          prompt: w.prompt,
          maxRetries: 0,
          maxOutputTokens: MAX_TOKENS,
          ...(w.withTool
            ? {
                tools: {
                  read_file: tool({ description, inputSchema: jsonSchema(readFileSchema) }),
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
