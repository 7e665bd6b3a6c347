import { type Content, FunctionCallingConfigMode, type GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimServer } from '../server.ts';
import {
  bodyOf,
  collect,
  errorOf,
  finishes,
  partsOf,
  startSim,
  textOf,
  thinking,
  tools,
} from './gemini-test-kit.ts';

let sim: SimServer;
let ai: GoogleGenAI;
beforeAll(async () => {
  ({ sim, ai } = await startSim());
});
afterAll(() => sim.close());

describe('streamGenerateContent', () => {
  it('streams the echo a few words per chunk, each chunk with running usage', async () => {
    const chunks = await collect(
      await ai.models.generateContentStream({ model: 'tern-sim', contents: 'Hello, simulator!' }),
    );
    expect(chunks.length).toBeGreaterThan(3);
    expect(textOf(partsOf(chunks))).toMatch(
      /^You said: Hello, simulator! I am Tern's built-in simulated model/,
    );
    expect(chunks[0]?.candidates?.[0]?.content?.parts?.[0]?.text).toBe('You said: Hello,');
    expect(finishes(chunks)).toEqual(['STOP']);
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    expect(chunks.every((c) => c.modelVersion === 'tern-sim')).toBe(true);
    const counts = chunks.map((c) => c.usageMetadata?.candidatesTokenCount ?? 0);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const last = chunks.at(-1)?.usageMetadata;
    expect(last).toMatchObject({ promptTokenCount: 7 });
    expect(last?.totalTokenCount).toBe(7 + (last?.candidatesTokenCount ?? 0));
    expect(last?.thoughtsTokenCount).toBeUndefined();
  });

  it('sends each function call whole, without an id, and finishes with STOP', async () => {
    const chunks = await collect(
      await ai.models.generateContentStream({
        model: 'tern-sim',
        contents: 'list files, then read package.json',
        config: { tools },
      }),
    );
    const calls = partsOf(chunks).flatMap((p) => (p.functionCall ? [p.functionCall] : []));
    expect(calls).toEqual([
      { name: 'list_files', args: { path: '.' } },
      { name: 'read_file', args: { path: 'package.json' } },
    ]);
    expect(finishes(chunks)).toEqual(['STOP']);
    expect(partsOf(chunks).some((p) => p.thoughtSignature)).toBe(false);
  });

  it('answers a functionResponse with a summary quoting its first line', async () => {
    const contents: Content[] = [
      { role: 'user', parts: [{ text: 'read README.md' }] },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'read_file', args: { path: 'README.md' } } }],
      },
      {
        role: 'user',
        parts: [
          {
            functionResponse: {
              name: 'read_file',
              response: { output: '# Tern: agents at scale\nMore text.' },
            },
          },
        ],
      },
    ];
    const chunks = await collect(
      await ai.models.generateContentStream({ model: 'tern-sim', contents, config: { tools } }),
    );
    expect(textOf(partsOf(chunks))).toBe(
      'I read README.md. It says: # Tern: agents at scale More text.',
    );
  });

  it('streams thoughts first and signs the first function call', async () => {
    const chunks = await collect(
      await ai.models.generateContentStream({
        model: 'tern-sim',
        contents: 'What is in docs/guide.md?',
        config: { tools, ...thinking },
      }),
    );
    const parts = partsOf(chunks);
    const thoughts = parts.filter((p) => p.thought);
    expect(thoughts.map((p) => p.text).join('')).toBe(
      'The user mentioned docs/guide.md, so I will read it with read_file.',
    );
    expect(parts.findIndex((p) => !p.thought)).toBe(thoughts.length);
    const call = parts.at(-1);
    expect(call?.functionCall).toEqual({ name: 'read_file', args: { path: 'docs/guide.md' } });
    expect(call?.thoughtSignature).toMatch(/^Ci5UU0lN[A-Za-z0-9+/]+=*$/);
    const usage = chunks.at(-1)?.usageMetadata;
    expect(usage?.thoughtsTokenCount).toBeGreaterThan(0);
    expect(usage?.totalTokenCount).toBe(
      (usage?.promptTokenCount ?? 0) +
        (usage?.candidatesTokenCount ?? 0) +
        (usage?.thoughtsTokenCount ?? 0),
    );
  });

  it('puts a text reply signature on a final empty part, and thinks silently without includeThoughts', async () => {
    const chunks = await collect(
      await ai.models.generateContentStream({
        model: 'tern-sim',
        contents: 'Hi',
        config: { thinkingConfig: { thinkingBudget: 512 } },
      }),
    );
    expect(partsOf(chunks).some((p) => p.thought)).toBe(false);
    const last = chunks.at(-1)?.candidates?.[0];
    expect(last?.content?.parts).toEqual([{ text: '', thoughtSignature: expect.any(String) }]);
    expect(last?.finishReason).toBe('STOP');
    expect(chunks.at(-1)?.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
  });

  it('cuts the reply at maxOutputTokens with MAX_TOKENS', async () => {
    const chunks = await collect(
      await ai.models.generateContentStream({
        model: 'tern-sim',
        contents: 'tell me everything',
        config: { maxOutputTokens: 4 },
      }),
    );
    expect(textOf(partsOf(chunks))).toBe('You said: tell');
    expect(finishes(chunks)).toEqual(['MAX_TOKENS']);
    expect(chunks.at(-1)?.usageMetadata?.candidatesTokenCount).toBe(4);
  });

  it('honours mode NONE and forces a call under mode ANY', async () => {
    const none = await ai.models.generateContent({
      model: 'tern-sim',
      contents: 'read README.md',
      config: {
        tools,
        toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } },
      },
    });
    expect(none.functionCalls).toBeUndefined();
    const any = await ai.models.generateContent({
      model: 'tern-sim',
      contents: 'good morning',
      config: {
        tools,
        toolConfig: {
          functionCallingConfig: {
            mode: FunctionCallingConfigMode.ANY,
            allowedFunctionNames: ['list_files'],
          },
        },
      },
    });
    expect(any.functionCalls).toEqual([{ name: 'list_files', args: {} }]);
  });
});

describe('thought signatures on replay', () => {
  const history = (signature?: string): Content[] => [
    { role: 'user', parts: [{ text: 'read README.md' }] },
    {
      role: 'model',
      parts: [
        {
          functionCall: { name: 'read_file', args: { path: 'README.md' } },
          ...(signature === undefined ? {} : { thoughtSignature: signature }),
        },
      ],
    },
    {
      role: 'user',
      parts: [{ functionResponse: { name: 'read_file', response: { output: 'hello' } } }],
    },
  ];
  const replay = (signature?: string) =>
    ai.models.generateContent({
      model: 'tern-sim',
      contents: history(signature),
      config: { tools, ...thinking },
    });

  it('accepts the signature the sim issued, and the documented skip value', async () => {
    const first = await ai.models.generateContent({
      model: 'tern-sim',
      contents: 'read README.md',
      config: { tools, ...thinking },
    });
    const signature = first.candidates?.[0]?.content?.parts?.find(
      (p) => p.functionCall,
    )?.thoughtSignature;
    expect((await replay(signature)).text).toBe('I read README.md. It says: hello');
    expect((await replay('skip_thought_signature_validator')).text).toMatch(/^I read/);
  });

  it('refuses a missing signature in the current turn, as Gemini 3 does', async () => {
    const error = await errorOf(replay());
    expect(error.status).toBe(400);
    expect(bodyOf(error).error.message).toMatch(
      /^Function call is missing a thought_signature in functionCall parts\..*`default_api:read_file` , position 2\./,
    );
  });

  it('refuses a signature that belongs to another call', async () => {
    const other = await ai.models.generateContent({
      model: 'tern-sim',
      contents: 'read other.md',
      config: { tools, ...thinking },
    });
    const foreign = other.candidates?.[0]?.content?.parts?.find(
      (p) => p.functionCall,
    )?.thoughtSignature;
    expect(foreign).toEqual(expect.any(String));
    const error = await errorOf(replay(foreign));
    expect(bodyOf(error).error).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: 'Corrupted thought signature.',
    });
  });
});

describe('generateContent', () => {
  it('returns one candidate with the whole text, signed on the text part when thinking', async () => {
    const response = await ai.models.generateContent({
      model: 'tern-sim',
      contents: [{ role: 'user', parts: [{ text: 'ping' }] }],
      config: { systemInstruction: 'Be brief.', ...thinking },
    });
    const parts = response.candidates?.[0]?.content?.parts ?? [];
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatchObject({ thought: true });
    expect(parts[1]?.text).toMatch(/^You said: ping /);
    expect(parts[1]?.thoughtSignature).toEqual(expect.any(String));
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.usageMetadata?.promptTokenCount).toBe(5);
  });
});
