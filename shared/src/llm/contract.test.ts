import { createSimServer, type SimServer } from '@tern/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicAdapter } from './anthropic/anthropic-adapter.ts';
import { geminiAdapter } from './gemini/gemini-adapter.ts';
import type { LlmEvent, LlmMessage, LlmRequest, StreamFn, ToolSpec } from './llm-types.ts';
import { openAiChatAdapter } from './openai-chat/openai-chat-adapter.ts';
import { chatCompatProfiles } from './openai-chat/openai-chat-compat.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { driveStream } from './stream-driver.ts';

/**
 * The same scenarios through Tern's layer on every provider, against the simulator speaking each
 * vendor's wire protocol: the normalised events must agree, every fault must map to the same
 * error kind and retry decision, and a session must be able to move between providers.
 */
let sim: SimServer;
const retries: number[] = [];
const policy: RetryPolicy = {
  maxAttempts: 2,
  baseDelayMs: 1,
  maxDelayMs: 1,
  maxRetryAfterMs: 5000,
};

type Provider = { name: string; model: string; stream: StreamFn; headers?: Record<string, string> };
let providers: Provider[];

beforeAll(async () => {
  sim = await createSimServer({
    scenarios: [
      {
        name: 'two-steps',
        steps: [
          {
            text: 'Let me look.',
            toolCalls: [{ name: 'read_file', arguments: { path: 'a.txt' } }],
          },
          { text: 'All done.' },
        ],
      },
    ],
  });
  const options = { retry: policy, sleep: async (ms: number) => void retries.push(ms) };
  providers = [
    {
      name: 'openai',
      model: 'gpt-4.1-mini',
      stream: driveStream(
        openAiChatAdapter({
          provider: 'openai',
          apiKey: 'sk-test',
          baseURL: `${sim.url}/v1`,
          compat: chatCompatProfiles.openai,
        }),
        options,
      ),
    },
    {
      name: 'openai-compatible',
      model: 'tern-sim',
      headers: { 'x-tern-sim-dialect': 'vllm' },
      stream: driveStream(
        openAiChatAdapter({
          provider: 'openai-compatible',
          apiKey: 'none',
          baseURL: `${sim.url}/v1`,
          compat: chatCompatProfiles.vllm,
        }),
        options,
      ),
    },
    {
      name: 'anthropic',
      model: 'claude-sonnet-4-5',
      stream: driveStream(anthropicAdapter({ apiKey: 'sk-ant-test', baseURL: sim.url }), options),
    },
    {
      name: 'gemini',
      model: 'gemini-2.5-flash',
      stream: driveStream(geminiAdapter({ apiKey: 'AIza-test', baseUrl: sim.url }), options),
    },
  ];
});

afterAll(async () => {
  await sim?.close();
});

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

async function call(
  p: Provider,
  request: Partial<LlmRequest>,
  headers: Record<string, string> = {},
) {
  const events: LlmEvent[] = [];
  for await (const e of p.stream({
    model: p.model,
    messages: [],
    maxTokens: 2048,
    ...request,
    headers: { ...p.headers, ...headers },
  })) {
    events.push(e);
  }
  return events;
}

const textOf = (events: LlmEvent[]) =>
  events.flatMap((e) => (e.type === 'text_delta' ? [e.text] : [])).join('');
const finishOf = (events: LlmEvent[]) => events.at(-1) as Extract<LlmEvent, { type: 'finish' }>;
const calls = (events: LlmEvent[]) =>
  events.flatMap((e) => (e.type === 'tool_call_end' ? [{ name: e.name, parsed: e.parsed }] : []));

describe.each(['openai', 'openai-compatible', 'anthropic', 'gemini'])(
  '%s through Tern’s layer',
  (name) => {
    const p = () => providers.find((x) => x.name === name)!;

    it('streams a text answer: start, deltas, usage, finish stop', async () => {
      const events = await call(p(), { messages: [{ role: 'user', content: 'hello there' }] });
      expect(events[0]).toEqual({ type: 'start', model: p().model });
      expect(textOf(events)).toMatch(/^You said: hello there/);
      expect(events.filter((e) => e.type === 'usage')).toHaveLength(1);
      expect(finishOf(events)).toMatchObject({ reason: 'stop', timing: { attempts: 1 } });
      // Every stream's event kinds come in the contract's order.
      const kinds = [...new Set(events.map((e) => e.type))];
      expect(kinds).toEqual(['start', 'text_delta', 'usage', 'finish']);
    });

    it('streams a tool call, closed with validated arguments', async () => {
      const events = await call(p(), {
        messages: [{ role: 'user', content: 'Please read README.md' }],
        tools: [readFile],
      });
      expect(calls(events)).toEqual([
        { name: 'read_file', parsed: { ok: true, args: { path: 'README.md' } } },
      ]);
      expect(finishOf(events).reason).toBe('tool_calls');
      const start = events.findIndex((e) => e.type === 'tool_call_start');
      const end = events.findIndex((e) => e.type === 'tool_call_end');
      expect(start).toBeGreaterThan(0);
      expect(end).toBeGreaterThan(start);
    });

    it('walks a scripted scenario step by step', async () => {
      const scenario = { 'x-tern-sim-scenario': 'two-steps' };
      const first = await call(
        p(),
        { messages: [{ role: 'user', content: 'go' }], tools: [readFile] },
        scenario,
      );
      expect(textOf(first)).toBe('Let me look.');
      const id = first.find((e) => e.type === 'tool_call_end') as Extract<
        LlmEvent,
        { type: 'tool_call_end' }
      >;
      const history: LlmMessage[] = [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          origin: `${name}:${p().model}`,
          content: [
            { type: 'text', text: 'Let me look.' },
            {
              type: 'tool_call',
              id: id.id,
              name: 'read_file',
              args: { path: 'a.txt' },
              ...(id.meta ? { meta: id.meta } : {}),
            },
          ],
        },
        { role: 'tool', toolCallId: id.id, toolName: 'read_file', content: 'contents of a' },
      ];
      const second = await call(p(), { messages: history, tools: [readFile] }, scenario);
      expect(textOf(second)).toBe('All done.');
      expect(finishOf(second).reason).toBe('stop');
    });

    const faults: [string, string, boolean][] = [
      ['rate_limit', 'rate_limited', true],
      ['overloaded', 'overloaded', true],
      ['server_error', 'server', true],
      ['unavailable', 'overloaded', true],
      ['context_overflow', 'context_overflow', false],
      ['cut', 'network', false],
      // Anthropic's in-stream error is an overloaded_error event; the others send a server error.
      ['stream_error', name === 'anthropic' ? 'overloaded' : 'server', false],
    ];
    it.each(faults)(
      'maps the %s fault to %s and retries only when it should',
      async (fault, kind, retriedBeforeOutput) => {
        retries.length = 0;
        const events = await call(
          p(),
          { messages: [{ role: 'user', content: 'hello' }] },
          { 'x-tern-sim-fault': fault },
        );
        const finish = finishOf(events);
        expect(finish).toMatchObject({ reason: 'error', error: { kind } });
        // Faults that fail before any output are retried (the fault header repeats, so the second
        // attempt fails too); faults after output started never are.
        expect(events.some((e) => e.type === 'retry')).toBe(retriedBeforeOutput);
        expect(finish.timing?.attempts).toBe(retriedBeforeOutput ? 2 : 1);
        if (kind === 'rate_limited') expect(finish.error?.retryAfterMs).toBe(1000);
        if (kind === 'context_overflow') expect(finish.error?.contextLimit).toBeGreaterThan(1000);
      },
    );

    it('hands a truncated tool-argument JSON to nobody', async () => {
      const events = await call(
        p(),
        { messages: [{ role: 'user', content: 'Please read README.md' }], tools: [readFile] },
        { 'x-tern-sim-fault': 'truncated_tool_json' },
      );
      const ok = calls(events).filter((c) => c.parsed.ok);
      expect(ok).toEqual([]);
      const finish = finishOf(events);
      // Gemini reports a malformed call itself; the others deliver the call, marked invalid.
      if (name === 'gemini') expect(finish.error?.kind).toBe('malformed_response');
      else expect(calls(events)[0]?.parsed).toMatchObject({ ok: false });
    });

    it('turns a call that drips past its deadline into a timeout', async () => {
      const events = await call(
        p(),
        { messages: [{ role: 'user', content: 'hello' }], timeoutMs: 100 },
        { 'x-tern-sim-fault': 'slow_drip', 'x-tern-sim-drip-ms': '500' },
      );
      expect(finishOf(events)).toMatchObject({
        reason: 'error',
        error: { kind: 'timeout', retryable: true },
      });
    });

    it('ends a hung call with aborted when the caller aborts', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 30);
      const events = await call(
        p(),
        { messages: [{ role: 'user', content: 'hello' }], signal: controller.signal },
        { 'x-tern-sim-fault': 'hang' },
      );
      expect(finishOf(events)).toMatchObject({ reason: 'aborted', error: { kind: 'aborted' } });
    });
  },
);

describe('a session that moves between providers', () => {
  const names = ['openai', 'openai-compatible', 'anthropic', 'gemini'];
  const pairs = names.flatMap((a) => names.filter((b) => b !== a).map((b) => [a, b] as const));

  it.each(pairs)('starts on %s with a tool call and continues on %s', async (from, to) => {
    const first = providers.find((p) => p.name === from)!;
    const next = providers.find((p) => p.name === to)!;
    const ask: LlmMessage = { role: 'user', content: 'Please read README.md' };
    const opening = await call(first, { messages: [ask], tools: [readFile] });
    const end = opening.find((e) => e.type === 'tool_call_end') as Extract<
      LlmEvent,
      { type: 'tool_call_end' }
    >;
    expect(end?.parsed.ok).toBe(true);
    const reasoning = opening
      .flatMap((e) => (e.type === 'reasoning_delta' ? [e.text] : []))
      .join('');
    const history: LlmMessage[] = [
      ask,
      {
        role: 'assistant',
        origin: `${from}:${first.model}`,
        content: [
          ...(reasoning
            ? [
                {
                  type: 'reasoning' as const,
                  text: reasoning,
                  meta: { provider: from, signature: 'sig' },
                },
              ]
            : []),
          { type: 'text', text: textOf(opening) },
          {
            type: 'tool_call',
            id: end.id,
            name: end.name,
            args: end.parsed.ok ? end.parsed.args : {},
            ...(end.meta ? { meta: end.meta } : {}),
          },
        ],
      },
      {
        role: 'tool',
        toolCallId: end.id,
        toolName: 'read_file',
        content: 'Tern handoff file\nsecond line',
      },
    ];
    const continued = await call(next, { messages: history, tools: [readFile] });
    expect(finishOf(continued)).toMatchObject({ reason: 'stop' });
    expect(textOf(continued)).toContain('Tern handoff file');
  });
});
