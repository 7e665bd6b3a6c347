import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { GoogleGenAI } from '@google/genai';
import { type Context, type Model, stream as piStream, Type } from '@mariozechner/pi-ai';
import { geminiAdapter } from '@tern/shared/llm/gemini/gemini-adapter';
import { driveStream } from '@tern/shared/llm/stream-driver';
import { jsonSchema, streamText, tool } from 'ai';
import { type CallResult, type Client, readFileSchema } from './llm-clients.ts';

const MODEL = 'gemini-2.5-flash';
const description = 'Read a file';

/** The four ways to stream a Gemini call that the benchmark compares. */
export function geminiClients(baseUrl: string): Client[] {
  const raw = new GoogleGenAI({ apiKey: 'AIza-bench', httpOptions: { baseUrl } });
  const tern = driveStream(geminiAdapter({ apiKey: 'AIza-bench', baseUrl }));
  const piModel: Model<'google-generative-ai'> = {
    id: MODEL,
    name: MODEL,
    api: 'google-generative-ai',
    provider: 'google',
    baseUrl: `${baseUrl}/v1beta`,
    reasoning: false,
    input: ['text'],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: 1_000_000,
    maxTokens: 8192,
  };
  const aiSdk = createGoogleGenerativeAI({ apiKey: 'AIza-bench', baseURL: `${baseUrl}/v1beta` });
  const geminiParameters = {
    type: 'OBJECT',
    properties: { path: { type: 'STRING' } },
    required: ['path'],
  };

  return [
    {
      name: 'raw @google/genai',
      async call(w) {
        const result: CallResult = { text: '', toolArgs: '' };
        const s = await raw.models.generateContentStream({
          model: MODEL,
          contents: [{ role: 'user', parts: [{ text: w.prompt }] }],
          config: {
            automaticFunctionCalling: { disable: true },
            ...(w.withTool
              ? {
                  tools: [
                    {
                      functionDeclarations: [
                        { name: 'read_file', description, parameters: geminiParameters },
                      ],
                    },
                  ],
                }
              : {}),
          } as Parameters<typeof raw.models.generateContentStream>[0]['config'],
        });
        for await (const chunk of s) {
          for (const part of chunk.candidates?.[0]?.content?.parts ?? []) {
            if (part.text) result.text += part.text;
            if (part.functionCall) result.toolArgs = JSON.stringify(part.functionCall.args ?? {});
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
        for await (const e of piStream(piModel, context, { apiKey: 'AIza-bench' })) {
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
