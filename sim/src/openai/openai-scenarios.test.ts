import OpenAI, { BadRequestError, RateLimitError } from 'openai';
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';

// Scripted scenarios driven through the official SDK, as an agent loop would drive them.

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'read_file', parameters: { type: 'object', properties: {} } },
  },
];

let sim: SimServer;
let client: OpenAI;
beforeAll(async () => {
  sim = await createSimServer({
    scenarios: {
      'read-then-answer': {
        steps: [
          {
            reasoning: 'I should look at the notes.',
            text: 'Let me check.',
            toolCalls: [{ name: 'read_file', arguments: { path: 'notes.md' } }],
          },
          { text: 'The notes say hello.' },
        ],
      },
      'bad-json': {
        steps: [{ toolCalls: [{ name: 'read_file', arguments: '{"path": "a.md",' }] }],
      },
      flaky: { steps: [{ fault: 'rate_limit', text: 'never seen' }] },
      truncated: { steps: [{ text: 'one two three', finish: 'length' }] },
    },
  });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => sim.close());

const play = (name: string) => ({ headers: { 'x-tern-sim-scenario': name } });

describe('scripted scenarios', () => {
  it('walks two steps of an agent turn, one per request, from the conversation alone', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'anything at all' }];
    const first = await client.chat.completions
      .stream({ model: 'tern-sim', messages, tools }, play('read-then-answer'))
      .finalChatCompletion();
    const step0 = first.choices[0]!;
    expect(step0.finish_reason).toBe('tool_calls');
    expect(step0.message.content).toBe('Let me check.');
    const call = step0.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function).toEqual({
      name: 'read_file',
      arguments: '{"path":"notes.md"}',
    });

    messages.push(step0.message, { role: 'tool', tool_call_id: call.id, content: 'hello' });
    const second = await client.chat.completions.create(
      { model: 'tern-sim', messages, tools },
      play('read-then-answer'),
    );
    expect(second.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: 'The notes say hello.' },
    });

    // A retry of the first request gets the first step again.
    const retry = await client.chat.completions.create(
      { model: 'tern-sim', messages: messages.slice(0, 1), tools },
      play('read-then-answer'),
    );
    expect(retry.choices[0]?.message.content).toBe('Let me check.');
  });

  it('sends raw argument text as is, even when it is not JSON', async () => {
    const completion = await client.chat.completions.create(
      { model: 'tern-sim', messages: [{ role: 'user', content: 'x' }], tools },
      play('bad-json'),
    );
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.arguments).toBe('{"path": "a.md",');
  });

  it('applies a step’s fault, unless the request overrides it', async () => {
    const ask = (extra: Record<string, string> = {}) =>
      client.chat.completions.create(
        { model: 'tern-sim', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-tern-sim-scenario': 'flaky', ...extra } },
      );
    await expect(ask()).rejects.toBeInstanceOf(RateLimitError);
    await expect(ask({ 'x-tern-sim-fault': 'none' })).resolves.toMatchObject({
      choices: [{ message: { content: 'never seen' } }],
    });
  });

  it('reports the finish a step forces', async () => {
    const completion = await client.chat.completions.create(
      { model: 'tern-sim', messages: [{ role: 'user', content: 'x' }] },
      play('truncated'),
    );
    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'length',
      message: { content: 'one two three' },
    });
  });

  it('refuses an unknown scenario name as a bad request naming the header', async () => {
    const error = await client.chat.completions
      .create({ model: 'tern-sim', messages: [{ role: 'user', content: 'x' }] }, play('nope'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ param: 'x-tern-sim-scenario' });
  });
});

describe('runtime registration', () => {
  const put = (name: string, body: unknown) =>
    fetch(`${sim.url}/sim/scenarios/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('installs a scenario with PUT /sim/scenarios/:name, usable at once', async () => {
    const response = await put('load-test', { steps: [{ text: 'scripted load' }] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'load-test', steps: 1 });
    const completion = await client.chat.completions.create(
      { model: 'tern-sim', messages: [{ role: 'user', content: 'x' }] },
      play('load-test'),
    );
    expect(completion.choices[0]?.message.content).toBe('scripted load');

    const replaced = await put('load-test', { name: 'load-test', steps: [{ text: 'v2' }] });
    expect(replaced.status).toBe(200);
    const again = await client.chat.completions.create(
      { model: 'tern-sim', messages: [{ role: 'user', content: 'x' }] },
      play('load-test'),
    );
    expect(again.choices[0]?.message.content).toBe('v2');

    const listing = await (await fetch(`${sim.url}/sim/scenarios`)).json();
    expect(listing.scenarios).toContainEqual({ name: 'load-test', steps: 1 });
  });

  it('refuses an invalid scenario with 400 and says what is wrong', async () => {
    const response = await put('broken', { steps: [{ finish: 'eventually' }] });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        message: 'Invalid scenario: steps[0].finish must be one of stop, length, tool_calls.',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    expect((await put('broken', '{not json')).status).toBe(400);
    expect((await put('other', { name: 'mismatch', steps: [{}] })).status).toBe(400);
    const listing = await (await fetch(`${sim.url}/sim/scenarios`)).json();
    expect(listing.scenarios.map((s: { name: string }) => s.name)).not.toContain('broken');
  });
});
