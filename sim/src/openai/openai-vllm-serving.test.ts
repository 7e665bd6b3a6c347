import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer, type SimServerOptions } from '../server.ts';

// How a vLLM server started with the wrong flags answers: the misconfigurations `tern vllm check`
// diagnoses, each as the official SDK sees it.

const servers: SimServer[] = [];
async function client(options: SimServerOptions) {
  const sim = await createSimServer(options);
  servers.push(sim);
  return { sim, openai: new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-x', maxRetries: 0 }) };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'read_file',
      parameters: { type: 'object', properties: { path: { type: 'string' } } },
    },
  },
];
const ask = (model: string) => ({
  model,
  messages: [{ role: 'user' as const, content: 'read docs/guide.md' }],
});

describe('--served-model-name', () => {
  it('lists only the served name, with vLLM’s fields, and refuses any other name with a 404', async () => {
    const { sim, openai } = await client({ dialect: 'vllm', servedModelName: 'qwen3-coder' });
    const listing = await (await fetch(`${sim.url}/v1/models`)).json();
    expect(listing).toEqual({
      object: 'list',
      data: [
        {
          id: 'qwen3-coder',
          object: 'model',
          created: 1735689600,
          owned_by: 'vllm',
          root: 'qwen3-coder',
          parent: null,
          max_model_len: 8192,
        },
      ],
    });
    const error = await openai.chat.completions.create(ask('tern-sim')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    // The old flat error shape: the SDK sees the status only.
    expect((error as NotFoundError).status).toBe(404);
    const raw = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(ask('tern-sim')),
    });
    expect(await raw.json()).toEqual({
      object: 'error',
      message: 'The model `tern-sim` does not exist.',
      type: 'NotFoundError',
      param: null,
      code: 404,
    });
    const ok = await openai.chat.completions.create(ask('qwen3-coder'));
    expect(ok.choices[0]?.message.content).toContain('You said');
  });

  it('answers OpenAI’s model_not_found in the OpenAI dialect', async () => {
    const { openai } = await client({ servedModelName: 'gpt-x' });
    const error = await openai.chat.completions.create(ask('gpt-y')).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('keeps accepting any name when unset', async () => {
    const { openai } = await client({ dialect: 'vllm' });
    const ok = await openai.chat.completions.create(ask('whatever-model'));
    expect(ok.model).toBe('whatever-model');
  });
});

describe('vllm-no-auto-tools (no --enable-auto-tool-choice)', () => {
  it('refuses tools on auto, explicit or by default, with vLLM’s 400', async () => {
    const { sim, openai } = await client({ dialect: 'vllm-no-auto-tools' });
    for (const toolChoice of [undefined, 'auto'] as const) {
      const body = { ...ask('m'), tools, ...(toolChoice ? { tool_choice: toolChoice } : {}) };
      const error = await openai.chat.completions.create(body).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      const raw = await fetch(`${sim.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      expect(raw.status).toBe(400);
      expect(await raw.json()).toMatchObject({
        object: 'error',
        message:
          '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
        type: 'BadRequestError',
      });
    }
  });

  it('still answers without tools, with tool_choice none, or with a named tool', async () => {
    const { openai } = await client({ dialect: 'vllm-no-auto-tools' });
    const plain = await openai.chat.completions.create(ask('m'));
    expect(plain.choices[0]?.finish_reason).toBe('stop');
    const none = await openai.chat.completions.create({ ...ask('m'), tools, tool_choice: 'none' });
    expect(none.choices[0]?.message.tool_calls ?? []).toEqual([]);
    const named = await openai.chat.completions.create({
      ...ask('m'),
      tools,
      tool_choice: { type: 'function', function: { name: 'read_file' } },
    });
    expect(named.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      function: { name: 'read_file' },
    });
  });
});
