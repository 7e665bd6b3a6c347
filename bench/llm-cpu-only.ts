import { anthropicAdapter } from '@tern/shared/llm/anthropic/anthropic-adapter';
import { geminiAdapter } from '@tern/shared/llm/gemini/gemini-adapter';
import type { LlmRequest } from '@tern/shared/llm/llm-types';
import { openAiChatAdapter } from '@tern/shared/llm/openai-chat/openai-chat-adapter';
import { chatCompatProfiles } from '@tern/shared/llm/openai-chat/openai-chat-compat';
import { driveStream } from '@tern/shared/llm/stream-driver';
import type { WireAdapter } from '@tern/shared/llm/wire-adapter';
import { readFileSchema } from './llm-clients.ts';
import { summarize } from './stats.ts';

type AnyAdapter = WireAdapter<unknown, unknown>;
type Loose = Record<string, unknown> & {
  choices?: { delta?: { content?: string } }[];
  delta?: { type?: string; text?: string };
  candidates?: { content?: { parts?: { text?: string }[] } }[];
};

const ITERATIONS = 3000;

/**
 * Tern's own cost per call, without the network: the chunks an SDK produced for one real call are
 * captured once, then replayed in-process both to a minimal raw consumer loop (what a caller of
 * the bare SDK does at least) and through Tern's driver and translation. The difference is what
 * the layer adds per call; it does not drift with loopback latency the way end-to-end medians do.
 */
export async function cpuOnly(url: string): Promise<string[][]> {
  const adapters: [string, AnyAdapter, string][] = [
    [
      'openai-compatible',
      openAiChatAdapter({
        provider: 'openai-compatible',
        apiKey: 'bench',
        baseURL: `${url}/v1`,
        compat: chatCompatProfiles.vllm,
      }) as AnyAdapter,
      'tern-sim',
    ],
    [
      'anthropic',
      anthropicAdapter({ apiKey: 'sk-ant-bench', baseURL: url }) as AnyAdapter,
      'claude-sonnet-4-5',
    ],
    [
      'gemini',
      geminiAdapter({ apiKey: 'AIza-bench', baseUrl: url }) as AnyAdapter,
      'gemini-2.5-flash',
    ],
  ];
  const rows: string[][] = [];
  for (const [provider, adapter, model] of adapters) {
    for (const [stream, request] of [
      [
        'text, 300 chunks',
        {
          model,
          maxTokens: 4096,
          messages: [{ role: 'user', content: 'Give me a long answer please' }],
        },
      ],
      [
        'tool call',
        {
          model,
          maxTokens: 4096,
          messages: [{ role: 'user', content: 'Please read README.md' }],
          tools: [{ name: 'read_file', description: 'Read a file', parameters: readFileSchema }],
        },
      ],
    ] as [string, LlmRequest][]) {
      const chunks: unknown[] = [];
      for await (const chunk of await adapter.open(request, new AbortController().signal))
        chunks.push(chunk);
      async function* replay() {
        for (const c of chunks) yield c;
      }
      const tern = driveStream({ ...adapter, open: async () => replay() });
      let events = 0;
      const raw = async () => {
        let text = '';
        for await (const c of replay()) {
          const chunk = c as Loose;
          text +=
            chunk.choices?.[0]?.delta?.content ??
            chunk.delta?.text ??
            chunk.candidates?.[0]?.content?.parts?.[0]?.text ??
            '';
        }
        return text;
      };
      const viaTern = async () => {
        let text = '';
        events = 0;
        for await (const e of tern(request)) {
          events += 1;
          if (e.type === 'text_delta') text += e.text;
        }
        return text;
      };
      const rawSamples: number[] = [];
      const ternSamples: number[] = [];
      for (let i = 0; i < 300; i++) {
        await raw();
        await viaTern();
      }
      for (let i = 0; i < ITERATIONS; i++) {
        let t = performance.now();
        await raw();
        rawSamples.push(performance.now() - t);
        t = performance.now();
        await viaTern();
        ternSamples.push(performance.now() - t);
      }
      const r = summarize(rawSamples).median * 1000;
      const t = summarize(ternSamples).median * 1000;
      rows.push([provider, stream, String(events), r.toFixed(1), t.toFixed(1), (t - r).toFixed(1)]);
    }
  }
  return rows;
}
