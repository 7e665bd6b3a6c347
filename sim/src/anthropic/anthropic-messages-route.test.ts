import Anthropic from '@anthropic-ai/sdk';
import type {
  MessageCreateParamsNonStreaming,
  RawMessageStreamEvent,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';

// The official SDK is the arbiter of wire fidelity: every reply below goes through its parser.

const tools: Tool[] = ['read_file', 'list_files'].map((name) => ({
  name,
  description: `${name} tool`,
  input_schema: { type: 'object', properties: { path: { type: 'string' } } },
}));

let sim: SimServer;
let client: Anthropic;

beforeAll(async () => {
  sim = await createSimServer({ seed: 7 });
  client = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});
afterAll(() => sim.close());

async function collect(stream: AsyncIterable<RawMessageStreamEvent>) {
  const events: RawMessageStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const base = (content: string): MessageCreateParamsNonStreaming => ({
  model: 'tern-sim',
  max_tokens: 1024,
  messages: [{ role: 'user', content }],
});

describe('streamed messages', () => {
  it('streams a text answer that the SDK assembles into the echo, with usage', async () => {
    const message = await client.messages.stream(base('Hello, simulator!')).finalMessage();
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'tern-sim',
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 7 },
    });
    expect(message.id).toMatch(/^msg_01[1-9A-HJ-NP-Za-km-z]{22}$/);
    expect(message.content).toHaveLength(1);
    const text = message.content[0]?.type === 'text' ? message.content[0].text : '';
    expect(text).toMatch(/^You said: Hello, simulator! I am Tern's built-in simulated model/);
    expect(message.usage.output_tokens).toBeGreaterThan(10);
  });

  it('sends the raw event sequence of the real API, one delta per word', async () => {
    const events = await collect(
      await client.messages.create({ ...base('ok'), max_tokens: 3, stream: true }),
    );
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const deltas = events.flatMap((e) =>
      e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [e.delta.text] : [],
    );
    expect(deltas).toEqual(['You', ' said:']);
    expect(events.at(-2)).toMatchObject({
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { output_tokens: 3 },
    });
  });

  it('streams a tool_use whose partial JSON the SDK reassembles into the input', async () => {
    const stream = client.messages.stream({
      ...base('What is in docs/guide.md?'),
      tools,
    });
    const fragments: string[] = [];
    stream.on('inputJson', (partial) => fragments.push(partial));
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      {
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_01[1-9A-HJ-NP-Za-km-z]{22}$/),
        name: 'read_file',
        input: { path: 'docs/guide.md' },
      },
    ]);
    expect(fragments.length).toBeGreaterThanOrEqual(3);
    expect(fragments.join('')).toBe('{"path":"docs/guide.md"}');
  });

  it('opens each tool input with an empty partial_json, as the API does', async () => {
    const events = await collect(
      await client.messages.create({ ...base('read a.md'), tools, stream: true }),
    );
    const jsonDeltas = events.flatMap((e) =>
      e.type === 'content_block_delta' && e.delta.type === 'input_json_delta'
        ? [e.delta.partial_json]
        : [],
    );
    expect(jsonDeltas[0]).toBe('');
    expect(jsonDeltas.slice(1).join('')).toBe('{"path":"a.md"}');
  });

  it('makes two parallel calls in two blocks when both tools apply', async () => {
    const message = await client.messages
      .stream({ ...base('list files, then read package.json'), tools })
      .finalMessage();
    expect(message.content.map((b) => (b.type === 'tool_use' ? [b.name, b.input] : []))).toEqual([
      ['list_files', { path: '.' }],
      ['read_file', { path: 'package.json' }],
    ]);
  });

  it('answers a tool_result round trip with a summary of the result', async () => {
    const first = await client.messages.create({ ...base('read README.md'), tools });
    const call = first.content.find((b) => b.type === 'tool_use');
    if (call?.type !== 'tool_use') throw new Error('expected a tool_use block');
    const second = await client.messages
      .stream({
        model: 'tern-sim',
        max_tokens: 1024,
        tools,
        messages: [
          { role: 'user', content: 'read README.md' },
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: call.id,
                content: '# Tern: agents at scale\nMore text.',
              },
            ],
          },
        ],
      })
      .finalMessage();
    expect(second.content).toEqual([
      { type: 'text', text: 'I read README.md. It says: # Tern: agents at scale More text.' },
    ]);
    expect(second.stop_reason).toBe('end_turn');
  });

  it('streams a thinking block with its signature first when thinking is enabled', async () => {
    const signatures: string[] = [];
    const stream = client.messages.stream({
      ...base('read a.md'),
      max_tokens: 2048,
      tools,
      thinking: { type: 'enabled', budget_tokens: 1024 },
    });
    stream.on('signature', (signature) => signatures.push(signature));
    const message = await stream.finalMessage();
    const [thinking, call] = message.content;
    expect(thinking?.type).toBe('thinking');
    if (thinking?.type !== 'thinking') return;
    expect(thinking.thinking.length).toBeGreaterThan(10);
    expect(thinking.signature).toMatch(/^Eu[A-Za-z0-9+/]+=*$/);
    expect(signatures).toEqual([thinking.signature]);
    expect(call).toMatchObject({ type: 'tool_use', name: 'read_file' });

    // The signed block replays: the next turn is accepted with it.
    const next = await client.messages.create({
      model: 'tern-sim',
      max_tokens: 2048,
      tools,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'read a.md' },
        { role: 'assistant', content: message.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: (call as { id: string }).id, content: 'hi' },
          ],
        },
      ],
    });
    expect(next.content.map((b) => b.type)).toEqual(['thinking', 'text']);
  });

  it('omits the thinking text but keeps the signature with display: omitted', async () => {
    const message = await client.messages
      .stream({
        ...base('hi'),
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' },
      })
      .finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: '' });
    expect((message.content[0] as { signature: string }).signature).not.toBe('');
  });

  it('ends at a stop sequence with stop_reason stop_sequence', async () => {
    const message = await client.messages
      .stream({ ...base('tell me a story'), stop_sequences: ['story'] })
      .finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'You said: tell me a ' }]);
    expect(message).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'story' });
  });

  it('gives the same tool ids for the same seed and request', async () => {
    const other = await createSimServer({ seed: 7 });
    try {
      const ask = (baseURL: string) =>
        new Anthropic({ baseURL, apiKey: 'k', maxRetries: 0 }).messages.create({
          ...base('read a.md'),
          tools,
        });
      const [a, b] = await Promise.all([ask(sim.url), ask(other.url)]);
      expect((a.content[0] as { id: string }).id).toBe((b.content[0] as { id: string }).id);
    } finally {
      await other.close();
    }
  });
});

describe('non-streamed messages', () => {
  it('returns the whole Message with usage', async () => {
    const message = await client.messages.create({ ...base('ping'), system: 'Be brief.' });
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      stop_reason: 'end_turn',
      usage: {
        input_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(message.content[0]).toMatchObject({
      type: 'text',
      text: expect.stringMatching(/^You said: ping /),
    });
  });

  it('honours max_tokens and stops with max_tokens', async () => {
    const message = await client.messages.create({ ...base('tell me everything'), max_tokens: 4 });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content).toEqual([{ type: 'text', text: 'You said: tell' }]);
    expect(message.usage.output_tokens).toBe(4);
  });

  it('accepts max_tokens 0 and generates nothing', async () => {
    const message = await client.messages.create({ ...base('hi'), max_tokens: 0 });
    expect(message.content).toEqual([]);
    expect(message.stop_reason).toBe('max_tokens');
  });
});
