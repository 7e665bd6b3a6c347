import { FunctionCallingConfigMode, type Tool, Type } from '@google/genai';
import { describe, expect, it } from 'vitest';
import type { LlmMessage, LlmRequest } from '../llm-types.ts';
import { SKIP_SIGNATURE, toGeminiContents } from './gemini-contents.ts';
import { toGeminiParameters } from './gemini-request.ts';

const gemini = (signature: string) => ({ provider: 'gemini', signature });

describe('toGeminiContents', () => {
  it('maps roles, replays Gemini signatures where they came, and groups tool results', () => {
    const messages: LlmMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'Use tools.' },
      { role: 'user', content: 'Read a.md and b.md' },
      {
        role: 'assistant',
        origin: 'gemini:gemini-3-pro',
        content: [
          { type: 'reasoning', text: 'Two files.', meta: gemini('c2lnLXQ=') },
          { type: 'text', text: 'Reading both.' },
          {
            type: 'tool_call',
            id: 'c1',
            name: 'read_file',
            args: { path: 'a.md' },
            meta: gemini('c2lnLWM='),
          },
          { type: 'tool_call', id: 'c2', name: 'read_file', args: { path: 'b.md' } },
        ],
      },
      { role: 'tool', toolCallId: 'c1', toolName: 'read_file', content: '# A' },
      { role: 'tool', toolCallId: 'c2', toolName: 'read_file', content: 'ENOENT', isError: true },
      { role: 'user', content: 'Thanks' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Done.' },
          { type: 'reasoning', text: '', meta: gemini('c2lnLWU=') },
        ],
      },
    ];
    expect(toGeminiContents(messages)).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Use tools.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Read a.md and b.md' }] },
        {
          role: 'model',
          parts: [
            { text: 'Two files.', thought: true, thoughtSignature: 'c2lnLXQ=' },
            { text: 'Reading both.' },
            {
              functionCall: { name: 'read_file', args: { path: 'a.md' } },
              thoughtSignature: 'c2lnLWM=',
            },
            { functionCall: { name: 'read_file', args: { path: 'b.md' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'read_file', response: { output: '# A' } } },
            { functionResponse: { name: 'read_file', response: { error: 'ENOENT' } } },
          ],
        },
        { role: 'user', parts: [{ text: 'Thanks' }] },
        {
          role: 'model',
          parts: [{ text: 'Done.' }, { text: '', thought: true, thoughtSignature: 'c2lnLWU=' }],
        },
      ],
    });
  });

  it("drops other providers' reasoning and signatures, and marks their calls with the skip value", () => {
    const { contents } = toGeminiContents([
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        origin: 'anthropic:claude-sonnet-4-5',
        content: [
          { type: 'reasoning', text: 'hmm', meta: { provider: 'anthropic', signature: 'EqQB' } },
          {
            type: 'tool_call',
            id: 'toolu_1',
            name: 'list_files',
            args: {},
            meta: { provider: 'anthropic' },
          },
          { type: 'tool_call', id: 'toolu_2', name: 'read_file', args: { path: 'x' } },
        ],
      },
      { role: 'tool', toolCallId: 'toolu_1', toolName: 'list_files', content: 'x' },
      { role: 'tool', toolCallId: 'toolu_2', toolName: 'read_file', content: 'y' },
    ]);
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [
        { functionCall: { name: 'list_files', args: {} }, thoughtSignature: SKIP_SIGNATURE },
        { functionCall: { name: 'read_file', args: { path: 'x' } } },
      ],
    });
  });
});

describe('toGeminiParameters', () => {
  const base: LlmRequest = {
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: 'hi' }],
  };
  const signal = new AbortController().signal;

  it('passes the signal and headers in config, and turns SDK continuation off', () => {
    const params = toGeminiParameters({ ...base, headers: { 'x-tern-sim-fault': 'cut' } }, signal);
    expect(params).toEqual({
      model: 'gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      config: {
        abortSignal: signal,
        automaticContinuation: false,
        httpOptions: { headers: { 'x-tern-sim-fault': 'cut' } },
      },
    });
  });

  it('maps tools, tool choice, limits and reasoning effort', () => {
    const params = toGeminiParameters(
      {
        ...base,
        tools: [
          {
            name: 'read_file',
            description: 'Read a file',
            parameters: {
              type: 'object',
              properties: { path: { type: 'string' } },
              required: ['path'],
              additionalProperties: false,
            },
          },
          { name: 'now', description: 'The time', parameters: { type: 'object', properties: {} } },
        ],
        toolChoice: { name: 'read_file' },
        maxTokens: 512,
        temperature: 0.2,
        stop: ['END'],
        reasoningEffort: 'medium',
      },
      signal,
    );
    expect(params.config).toMatchObject({
      tools: [
        {
          functionDeclarations: [
            {
              name: 'read_file',
              description: 'Read a file',
              parameters: {
                type: Type.OBJECT,
                properties: { path: { type: Type.STRING } },
                required: ['path'],
              },
            },
            { name: 'now', description: 'The time' },
          ],
        },
      ],
      toolConfig: {
        functionCallingConfig: {
          mode: FunctionCallingConfigMode.ANY,
          allowedFunctionNames: ['read_file'],
        },
      },
      maxOutputTokens: 512,
      temperature: 0.2,
      stopSequences: ['END'],
      thinkingConfig: { thinkingBudget: 8192, includeThoughts: true },
    });
    const [tool] = (params.config?.tools ?? []) as Tool[];
    expect(tool?.functionDeclarations?.[1]).not.toHaveProperty('parameters');
  });

  it.each([
    ['required', { mode: FunctionCallingConfigMode.ANY }],
    ['none', { mode: FunctionCallingConfigMode.NONE }],
  ] as const)('maps toolChoice %s', (toolChoice, config) => {
    const tools = [
      {
        name: 'f',
        description: '',
        parameters: { type: 'object', properties: { a: { type: 'string' } } },
      },
    ];
    expect(toGeminiParameters({ ...base, tools, toolChoice }, signal).config?.toolConfig).toEqual({
      functionCallingConfig: config,
    });
  });
});
