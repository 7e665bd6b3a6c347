import { GenerateContentResponse } from '@google/genai';
import { describe, expect, it } from 'vitest';
import type { LlmEvent } from '../llm-types.ts';
import { StreamFailure } from '../stream-failure.ts';
import {
  createGeminiState,
  endGeminiStream,
  type GeminiStreamState,
  translateGeminiChunk,
} from './gemini-translate.ts';

// Chunks shaped like recorded Generative Language API streams (SSE `data:` payloads as the SDK
// hands them over): running usage on every chunk, the thought signature of a text reply on a final
// empty part, calls whole and without ids.

const chunk = (json: object) => Object.assign(new GenerateContentResponse(), json);
const usage = (prompt: number, candidates?: number, thoughts?: number) => ({
  promptTokenCount: prompt,
  ...(candidates ? { candidatesTokenCount: candidates } : {}),
  totalTokenCount: prompt + (candidates ?? 0) + (thoughts ?? 0),
  ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
});
const parts = (list: object[], finishReason?: string) => ({
  candidates: [
    {
      content: { parts: list, role: 'model' },
      ...(finishReason ? { finishReason } : {}),
      index: 0,
    },
  ],
});

function run(chunks: object[], state: GeminiStreamState = createGeminiState((i) => `call_${i}`)) {
  const out: LlmEvent[] = [];
  for (const c of chunks) translateGeminiChunk(chunk(c), state, out);
  endGeminiStream(state, out);
  return out;
}

describe('translateGeminiChunk', () => {
  it('streams text, takes the last running usage, and reads a final empty part as the signature', () => {
    const events = run([
      {
        ...parts([{ text: 'As of today, the' }]),
        usageMetadata: usage(21, 15, 481),
        modelVersion: 'gemini-2.5-flash',
      },
      { ...parts([{ text: ' answer is 42.' }]), usageMetadata: usage(21, 43, 481) },
      {
        ...parts([{ text: '', thoughtSignature: 'EtEOCs4OARFN' }], 'STOP'),
        usageMetadata: usage(21, 43, 481),
      },
    ]);
    expect(events).toEqual([
      { type: 'text_delta', text: 'As of today, the' },
      { type: 'text_delta', text: ' answer is 42.' },
      { type: 'reasoning_signature', meta: { provider: 'gemini', signature: 'EtEOCs4OARFN' } },
      { type: 'usage', usage: { input: 21, output: 524, cached: 0, reasoning: 481, costUsd: 0 } },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('turns thought parts into reasoning and stops at MAX_TOKENS with length', () => {
    const events = run([
      {
        ...parts([{ text: '**Exploring**\n\nFirst, the trivial solutions.', thought: true }]),
        usageMetadata: usage(29, 0, 59),
      },
      { ...parts([{ text: 'We' }], 'MAX_TOKENS'), usageMetadata: usage(29, 1, 59) },
    ]);
    expect(events).toEqual([
      { type: 'reasoning_delta', text: '**Exploring**\n\nFirst, the trivial solutions.' },
      { type: 'text_delta', text: 'We' },
      { type: 'usage', usage: { input: 29, output: 60, cached: 0, reasoning: 59, costUsd: 0 } },
      { type: 'finish', reason: 'length' },
    ]);
  });

  it('emits each whole call at once, with its signature as meta, and finishes STOP as tool_calls', () => {
    const events = run([
      parts([{ text: 'Checking.', thought: true, thoughtSignature: 'c2lnLXRob3VnaHQ=' }]),
      parts([
        {
          functionCall: { name: 'read_file', args: { path: 'a.md' } },
          thoughtSignature: 'c2lnLWNhbGw=',
        },
      ]),
      {
        ...parts([{ functionCall: { name: 'list_files', args: {} } }], 'STOP'),
        usageMetadata: usage(10, 8),
      },
    ]);
    expect(events).toEqual([
      { type: 'reasoning_delta', text: 'Checking.' },
      { type: 'reasoning_signature', meta: { provider: 'gemini', signature: 'c2lnLXRob3VnaHQ=' } },
      { type: 'tool_call_start', id: 'call_0', name: 'read_file' },
      { type: 'tool_call_delta', id: 'call_0', argsText: '{"path":"a.md"}' },
      {
        type: 'tool_call_end',
        id: 'call_0',
        name: 'read_file',
        rawArgs: '{"path":"a.md"}',
        parsed: { ok: true, args: { path: 'a.md' } },
        meta: { provider: 'gemini', signature: 'c2lnLWNhbGw=' },
      },
      { type: 'tool_call_start', id: 'call_1', name: 'list_files' },
      { type: 'tool_call_delta', id: 'call_1', argsText: '{}' },
      {
        type: 'tool_call_end',
        id: 'call_1',
        name: 'list_files',
        rawArgs: '{}',
        parsed: { ok: true, args: {} },
      },
      { type: 'usage', usage: { input: 10, output: 8, cached: 0, reasoning: 0, costUsd: 0 } },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it("keeps Gemini 3's own call id", () => {
    const events = run([parts([{ functionCall: { id: 'fc_9', name: 'f', args: {} } }], 'STOP')]);
    expect(events[0]).toEqual({ type: 'tool_call_start', id: 'fc_9', name: 'f' });
  });

  it('assembles streamed partial arguments and ends the call with the part that stops continuing', () => {
    const events = run([
      parts([
        { functionCall: { name: 'get_weather', willContinue: true }, thoughtSignature: 'c2ln' },
      ]),
      parts([
        {
          functionCall: {
            partialArgs: [{ jsonPath: '$.location', stringValue: 'Bos', willContinue: true }],
            willContinue: true,
          },
        },
      ]),
      parts([
        {
          functionCall: {
            partialArgs: [{ jsonPath: '$.location', stringValue: 'ton, MA' }],
            willContinue: true,
          },
        },
      ]),
      parts([
        {
          functionCall: {
            partialArgs: [
              { jsonPath: '$.days', numberValue: 3 },
              { jsonPath: '$.units.metric', boolValue: true },
            ],
            willContinue: true,
          },
        },
      ]),
      parts([{ functionCall: {} }], 'STOP'),
    ]);
    const deltas = events.filter((e) => e.type === 'tool_call_delta').map((e) => e.argsText);
    const raw = '{"location":"Boston, MA","days":3,"units":{"metric":true}}';
    expect(deltas.join('')).toBe(raw);
    expect(deltas).toEqual([
      '{"location":"Bos',
      'ton, MA"',
      ',"days":3,"units":{"metric":true',
      '}}',
    ]);
    expect(events.filter((e) => e.type !== 'tool_call_delta')).toEqual([
      { type: 'tool_call_start', id: 'call_0', name: 'get_weather' },
      {
        type: 'tool_call_end',
        id: 'call_0',
        name: 'get_weather',
        rawArgs: raw,
        parsed: { ok: true, args: { location: 'Boston, MA', days: 3, units: { metric: true } } },
        meta: { provider: 'gemini', signature: 'c2ln' },
      },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('fails a streamed call that never closes, and a new call that opens before it closed', () => {
    const opened = parts([{ functionCall: { name: 'f', willContinue: true } }]);
    expect(
      run([opened, { candidates: [{ finishReason: 'STOP', index: 0 }] }]).at(-1),
    ).toMatchObject({
      type: 'finish',
      reason: 'error',
      error: { kind: 'malformed_response' },
    });
    expect(() => run([opened, parts([{ functionCall: { name: 'g', args: {} } }])])).toThrow(
      StreamFailure,
    );
  });

  it('ends MALFORMED_FUNCTION_CALL (a candidate without content) with a malformed_response error', () => {
    const events = run([
      parts([{ text: 'Let me' }]),
      {
        candidates: [{ finishReason: 'MALFORMED_FUNCTION_CALL', index: 0 }],
        usageMetadata: usage(5, 2),
      },
    ]);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      reason: 'error',
      error: {
        kind: 'malformed_response',
        message: 'Gemini ended the reply with MALFORMED_FUNCTION_CALL',
        retryable: false,
      },
    });
  });

  it.each(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT'])(
    'reads %s as content_filter',
    (reason) => {
      expect(run([{ candidates: [{ finishReason: reason, index: 0 }] }]).at(-1)).toEqual({
        type: 'finish',
        reason: 'content_filter',
      });
    },
  );

  it('reads a blocked prompt (promptFeedback, no candidates) as content_filter', () => {
    const events = run([
      { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: usage(7) },
    ]);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'content_filter' });
  });

  it('counts cached and tool-use prompt tokens', () => {
    const events = run([
      {
        ...parts([{ text: 'ok' }], 'STOP'),
        usageMetadata: {
          promptTokenCount: 100,
          cachedContentTokenCount: 60,
          toolUsePromptTokenCount: 5,
          candidatesTokenCount: 1,
        },
      },
    ]);
    expect(events).toContainEqual({
      type: 'usage',
      usage: { input: 105, output: 1, cached: 60, reasoning: 0, costUsd: 0 },
    });
  });

  it('throws a network StreamFailure when the stream ends without a finishReason', () => {
    const failure = (() => {
      try {
        run([parts([{ text: 'Half an ans' }])]);
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(StreamFailure);
    expect((failure as StreamFailure).error).toMatchObject({ kind: 'network', retryable: true });
  });
});
