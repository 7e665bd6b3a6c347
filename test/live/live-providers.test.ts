import { loadConfig } from '@tern/shared/config/config';
import type { LlmEvent } from '@tern/shared/llm/llm-types';
import { ModelRegistry } from '@tern/shared/llm/model-registry';
import { describe, expect, it } from 'vitest';

/**
 * Real providers, when their key is in the environment. Each skipped provider says so in the
 * output, so a green run never hides that nothing real was called.
 */
const live = [
  {
    provider: 'openai',
    key: 'OPENAI_API_KEY',
    model: process.env.TERN_LIVE_OPENAI_MODEL ?? 'gpt-4.1-mini',
  },
  {
    provider: 'anthropic',
    key: 'ANTHROPIC_API_KEY',
    model: process.env.TERN_LIVE_ANTHROPIC_MODEL ?? 'claude-haiku-4-5',
  },
  {
    provider: 'gemini',
    key: 'GEMINI_API_KEY',
    model: process.env.TERN_LIVE_GEMINI_MODEL ?? 'gemini-2.5-flash',
  },
] as const;

const tools = [
  {
    name: 'read_file',
    description: 'Read a file of the workspace',
    parameters: {
      type: 'object',
      properties: { path: { type: 'string' } },
      required: ['path'],
      additionalProperties: false,
    },
  },
];

describe('live providers', () => {
  for (const { provider, key, model } of live) {
    const present = Boolean(process.env[key]);
    if (!present) console.warn(`live ${provider}: skipped, ${key} is not set`);
    it.skipIf(!present)(`${provider} (${model}) streams an answer and a tool call`, async () => {
      const registry = new ModelRegistry(loadConfig());
      const stream = registry.streamFor(provider);
      const events: LlmEvent[] = [];
      for await (const e of stream({
        model,
        messages: [
          { role: 'user', content: 'Call read_file with the path README.md, nothing else.' },
        ],
        tools,
        maxTokens: 512,
      })) {
        events.push(e);
      }
      const end = events.find((e) => e.type === 'tool_call_end');
      expect(end).toMatchObject({
        name: 'read_file',
        parsed: { ok: true, args: { path: 'README.md' } },
      });
      expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'tool_calls' });
      expect(events.some((e) => e.type === 'usage')).toBe(true);
    });
  }
});
