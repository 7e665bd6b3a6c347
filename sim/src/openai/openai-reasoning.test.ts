import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';
import { countTokens } from '../tokenizer.ts';

// Reasoning on the OpenAI-compatible route: only when the request sets `reasoning_effort`, streamed
// in vLLM's `reasoning_content` field (OpenAI's own Chat Completions streams no reasoning).

let sim: SimServer;
let client: OpenAI;
beforeAll(async () => {
  sim = await createSimServer();
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => sim.close());

const THOUGHT = 'No tool fits this message, so I will answer directly.';
const reasoningOf = (chunk: ChatCompletionChunk) =>
  (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content;

describe('reasoning_effort', () => {
  it('streams reasoning_content before the answer and counts it in reasoning_tokens', async () => {
    const stream = await client.chat.completions.create({
      model: 'tern-sim',
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'low',
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const thoughts = chunks.flatMap((c) => reasoningOf(c) ?? []);
    expect(thoughts.join('')).toBe(THOUGHT);
    const firstText = chunks.findIndex((c) => c.choices[0]?.delta.content);
    expect(chunks.findLastIndex((c) => reasoningOf(c) !== undefined)).toBeLessThan(firstText);
    const usage = chunks.at(-1)?.usage;
    expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(countTokens(THOUGHT));
    expect(usage?.completion_tokens).toBeGreaterThan(countTokens(THOUGHT));
  });

  it('returns reasoning_content on the non-streamed message', async () => {
    const completion = await client.chat.completions.create({
      model: 'tern-sim',
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'high',
    });
    expect(completion.choices[0]?.message).toMatchObject({ reasoning_content: THOUGHT });
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(
      countTokens(THOUGHT),
    );
  });

  it('does not reason without reasoning_effort, or with none', async () => {
    for (const effort of [undefined, 'none' as const]) {
      const completion = await client.chat.completions.create({
        model: 'tern-sim',
        messages: [{ role: 'user', content: 'hi' }],
        ...(effort ? { reasoning_effort: effort } : {}),
      });
      expect(completion.choices[0]?.message).not.toHaveProperty('reasoning_content');
      expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(0);
    }
  });
});
