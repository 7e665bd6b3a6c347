import { createSimServer, type SimServer } from '@tern/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type {
  AssistantPart,
  JsonSchema,
  LlmError,
  LlmEvent,
  LlmMessage,
  LlmRequest,
  ToolSpec,
} from '../llm-types.ts';
import { driveStream } from '../stream-driver.ts';
import { geminiAdapter } from './gemini-adapter.ts';

// End to end through the official SDK against the simulator's Gemini route, driving the adapter
// exactly as the stream driver does: open, translate every chunk, end.

const readFile: ToolSpec = {
  name: 'read_file',
  description: 'Read a file of the workspace',
  parameters: {
    type: 'object',
    properties: { path: { type: 'string' } },
    required: ['path'],
    additionalProperties: false,
  },
};

let sim: SimServer;
beforeAll(async () => {
  sim = await createSimServer({ seed: 3 });
});
afterAll(() => sim.close());

const adapterFor = (apiKey = 'AIza-test') =>
  geminiAdapter({ apiKey, baseUrl: sim.url, makeCallId: (i) => `call_${i}` });

async function drive(
  request: LlmRequest,
  options: { signal?: AbortSignal; apiKey?: string; onEvent?: (e: LlmEvent) => void } = {},
): Promise<{ events: LlmEvent[]; error?: LlmError }> {
  const adapter = adapterFor(options.apiKey);
  const state = adapter.createState(request);
  const events: LlmEvent[] = [];
  try {
    const chunks = await adapter.open(request, options.signal ?? new AbortController().signal);
    for await (const chunk of chunks) {
      const out: LlmEvent[] = [];
      adapter.translate(chunk, state, out);
      for (const event of out) options.onEvent?.(event);
      events.push(...out);
    }
    adapter.end(state, events);
    return { events };
  } catch (error) {
    return { events, error: adapter.mapError(error) };
  }
}

const ask = (content: string, extra: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'tern-sim',
  messages: [{ role: 'user', content }],
  ...extra,
});
const fault = (name: string) => ({ headers: { 'x-tern-sim-fault': name } });
const text = (events: LlmEvent[]) =>
  events.flatMap((e) => (e.type === 'text_delta' ? [e.text] : [])).join('');

describe('gemini adapter against the sim', () => {
  it('streams a text reply: deltas, usage, finish', async () => {
    const { events, error } = await drive(ask('ok', { maxTokens: 3 }));
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: 'text_delta', text: 'You said:' },
      { type: 'usage', usage: { input: 1, output: 3, cached: 0, reasoning: 0, costUsd: 0 } },
      { type: 'finish', reason: 'length' },
    ]);
  });

  it('streams a whole reply as a few words per delta and finishes with stop', async () => {
    const { events } = await drive(ask('Hello, simulator!'));
    expect(text(events)).toMatch(
      /^You said: Hello, simulator! I am Tern's built-in simulated model/,
    );
    expect(events.filter((e) => e.type === 'text_delta')[0]).toEqual({
      type: 'text_delta',
      text: 'You said: Hello,',
    });
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(1);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('emits a whole call as start, one delta and end, then tool_calls', async () => {
    const { events } = await drive(ask('What is in README.md?', { tools: [readFile] }));
    expect(events).toEqual([
      { type: 'tool_call_start', id: 'call_0', name: 'read_file' },
      { type: 'tool_call_delta', id: 'call_0', argsText: '{"path":"README.md"}' },
      {
        type: 'tool_call_end',
        id: 'call_0',
        name: 'read_file',
        rawArgs: '{"path":"README.md"}',
        parsed: { ok: true, args: { path: 'README.md' } },
      },
      { type: 'usage', usage: expect.objectContaining({ input: 8, reasoning: 0 }) },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('streams thoughts and replays the call signature on the next turn', async () => {
    const first = await drive(
      ask('What is in README.md?', { tools: [readFile], reasoningEffort: 'low' }),
    );
    const reasoning = first.events.flatMap((e) => (e.type === 'reasoning_delta' ? [e.text] : []));
    expect(reasoning.join('')).toBe(
      'The user mentioned README.md, so I will read it with read_file.',
    );
    const end = first.events.find((e) => e.type === 'tool_call_end');
    expect(end).toMatchObject({
      meta: { provider: 'gemini', signature: expect.stringMatching(/^Ci5U/) },
    });
    const usage = first.events.find((e) => e.type === 'usage');
    expect(usage?.type === 'usage' && usage.usage.reasoning).toBeGreaterThan(0);

    if (end?.type !== 'tool_call_end' || !end.parsed.ok) throw new Error('no call');
    const assistant: AssistantPart[] = [
      { type: 'reasoning', text: reasoning.join(''), meta: { provider: 'gemini' } },
      {
        type: 'tool_call',
        id: end.id,
        name: end.name,
        args: end.parsed.args,
        ...(end.meta ? { meta: end.meta } : {}),
      },
    ];
    const history: LlmMessage[] = [
      { role: 'user', content: 'What is in README.md?' },
      { role: 'assistant', origin: 'gemini:tern-sim', content: assistant },
      {
        role: 'tool',
        toolCallId: end.id,
        toolName: 'read_file',
        content: '# Tern\nAgents at scale.',
      },
    ];
    const second = await drive({
      model: 'tern-sim',
      messages: history,
      tools: [readFile],
      reasoningEffort: 'low',
    });
    expect(second.error).toBeUndefined();
    expect(text(second.events)).toBe('I read README.md. It says: # Tern Agents at scale.');
    // A text reply's signature arrives on a final empty part.
    expect(second.events.at(-3)).toMatchObject({
      type: 'reasoning_signature',
      meta: { provider: 'gemini' },
    });

    // A call that lost its signature goes out with Google's documented skip value, which the
    // sim (like Gemini 3) accepts where it would refuse a call turn without any signature.
    const unsigned = history.map((m) =>
      m.role === 'assistant'
        ? { ...m, content: [{ ...assistant[1]!, meta: undefined }] as AssistantPart[] }
        : m,
    );
    const replayed = await drive({
      model: 'tern-sim',
      messages: unsigned,
      tools: [readFile],
      reasoningEffort: 'low',
    });
    expect(replayed.error).toBeUndefined();
  });

  it('keeps a history from another provider working with thinking on', async () => {
    const { events, error } = await drive({
      model: 'tern-sim',
      reasoningEffort: 'high',
      tools: [readFile],
      messages: [
        { role: 'user', content: 'Read a.md' },
        {
          role: 'assistant',
          origin: 'anthropic:claude-sonnet-4-5',
          content: [
            {
              type: 'reasoning',
              text: 'Read it.',
              meta: { provider: 'anthropic', signature: 'EqQB' },
            },
            { type: 'tool_call', id: 'toolu_01', name: 'read_file', args: { path: 'a.md' } },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_01', toolName: 'read_file', content: 'alpha' },
      ],
    });
    expect(error).toBeUndefined();
    expect(text(events)).toBe('I read a.md. It says: alpha');
  });

  it('declares a zod-generated schema the API accepts', async () => {
    const parameters = z.toJSONSchema(
      z.object({
        path: z.string(),
        encoding: z.union([z.literal('utf8'), z.literal('base64')]).optional(),
        range: z.object({ from: z.number().int(), to: z.number().int() }).strict().nullable(),
        meta: z.record(z.string(), z.string()),
      }),
      { reused: 'ref' },
    ) as JsonSchema;
    const { events, error } = await drive(
      ask('read README.md', {
        tools: [
          { ...readFile, parameters },
          { name: 'now', description: 'Time', parameters: { type: 'object', properties: {} } },
        ],
      }),
    );
    expect(error).toBeUndefined();
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it('maps toolChoice required to a forced call', async () => {
    const { events } = await drive(
      ask('good morning', { tools: [readFile], toolChoice: 'required' }),
    );
    expect(events.find((e) => e.type === 'tool_call_start')).toMatchObject({ name: 'read_file' });
  });
});

describe('gemini adapter errors against the sim', () => {
  it.each([
    ['rate_limit', { kind: 'rate_limited', status: 429, retryAfterMs: 1000, retryable: true }],
    ['overloaded', { kind: 'overloaded', status: 503, retryable: true }],
    ['unavailable', { kind: 'overloaded', status: 503, retryable: true }],
    ['server_error', { kind: 'server', status: 500, retryable: true }],
    [
      'context_overflow',
      { kind: 'context_overflow', status: 400, contextLimit: 1048576, retryable: false },
    ],
  ])('%s → %o', async (name, expected) => {
    const { events, error } = await drive(ask('hi', fault(name)));
    expect(events).toEqual([]);
    expect(error).toMatchObject(expected);
  });

  it('refuses the key AIza-invalid as auth', async () => {
    const { error } = await drive(ask('hi'), { apiKey: 'AIza-invalid' });
    expect(error).toMatchObject({ kind: 'auth', status: 400, retryable: false });
  });

  it('stream_error: text first, then a server error from inside the stream', async () => {
    const { events, error } = await drive(
      ask('tell me a long story please', fault('stream_error')),
    );
    expect(text(events)).toBe('You said: tell');
    expect(error).toMatchObject({ kind: 'server', status: 500, retryable: true });
  });

  it('cut: a network error after some text', async () => {
    const { events, error } = await drive(ask('tell me a long story please', fault('cut')));
    expect(text(events).length).toBeGreaterThan(0);
    expect(error).toMatchObject({ kind: 'network', retryable: true });
  });

  it('truncated_tool_json: no call, and a malformed_response finish', async () => {
    const { events } = await drive(
      ask('read README.md', { tools: [readFile], ...fault('truncated_tool_json') }),
    );
    expect(events.some((e) => e.type === 'tool_call_start')).toBe(false);
    expect(events.at(-1)).toMatchObject({
      type: 'finish',
      reason: 'error',
      error: { kind: 'malformed_response' },
    });
  });

  it('hang: an abort ends the wait promptly', async () => {
    const started = performance.now();
    const { error } = await drive(ask('hi', fault('hang')), { signal: AbortSignal.timeout(100) });
    expect(error?.kind).toMatch(/aborted|timeout/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('an abort mid-stream ends the iteration at once, as aborted', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const { events, error } = await drive(ask('tell me a long story please', fault('slow_drip')), {
      signal: controller.signal,
      onEvent: () => {
        if (abortedAt === 0) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
    expect(events).toHaveLength(1);
    expect(performance.now() - abortedAt).toBeLessThan(150);
  });
});

describe('gemini adapter under the stream driver', () => {
  it('runs a validated tool call through driveStream', async () => {
    const stream = driveStream(adapterFor());
    const events: LlmEvent[] = [];
    for await (const event of stream(ask('read README.md', { tools: [readFile] })))
      events.push(event);
    expect(events[0]).toEqual({ type: 'start', model: 'tern-sim' });
    expect(events.find((e) => e.type === 'tool_call_end')).toMatchObject({
      parsed: { ok: true, args: { path: 'README.md' } },
    });
    expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'tool_calls' });
  });
});
