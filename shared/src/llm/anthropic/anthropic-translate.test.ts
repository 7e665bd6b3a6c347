import { readFile } from 'node:fs/promises';
import { Stream } from '@anthropic-ai/sdk/core/streaming';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import type { LlmEvent } from '../llm-types.ts';
import { StreamFailure } from '../stream-failure.ts';
import {
  createAnthropicState,
  endAnthropicStream,
  translateAnthropicEvent,
} from './anthropic-translate.ts';

// Fixtures are SSE bodies in the real API's byte format (event lines, Python-spaced pings), read
// through the SDK's own SSE parser so the translator sees exactly what it sees in production.

async function eventsOf(fixture: string): Promise<RawMessageStreamEvent[]> {
  const body = await readFile(new URL(`./fixtures/${fixture}`, import.meta.url), 'utf8');
  const response = new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  const events: RawMessageStreamEvent[] = [];
  for await (const event of Stream.fromSSEResponse<RawMessageStreamEvent>(
    response,
    new AbortController(),
  )) {
    events.push(event);
  }
  return events;
}

function translate(events: readonly RawMessageStreamEvent[]): LlmEvent[] {
  const state = createAnthropicState();
  const out: LlmEvent[] = [];
  for (const event of events) translateAnthropicEvent(event, state, out);
  endAnthropicStream(state, out);
  return out;
}

const usage = (input: number, output: number, cached = 0) => ({
  type: 'usage',
  usage: { input, output, cached, reasoning: 0, costUsd: 0 },
});

describe('translateAnthropicEvent', () => {
  it('turns a text stream into text deltas, usage and a stop', async () => {
    expect(translate(await eventsOf('text.sse'))).toEqual([
      { type: 'text_delta', text: 'Hello' },
      { type: 'text_delta', text: '!' },
      usage(25, 15),
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('streams a tool call by its block and closes it with parsed arguments', async () => {
    const id = 'toolu_01T1x1fJ34qAmk2tNTrN7Up6';
    expect(translate(await eventsOf('tool-use.sse'))).toEqual([
      { type: 'text_delta', text: "Okay, let's check the weather." },
      { type: 'tool_call_start', id, name: 'get_weather' },
      { type: 'tool_call_delta', id, argsText: '{"location":' },
      { type: 'tool_call_delta', id, argsText: ' "San Francisco, CA"}' },
      {
        type: 'tool_call_end',
        id,
        name: 'get_weather',
        rawArgs: '{"location": "San Francisco, CA"}',
        parsed: { ok: true, args: { location: 'San Francisco, CA' } },
      },
      // Cache reads count as input too, and are reported as cached.
      usage(872, 89, 400),
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('streams thinking as reasoning, closed by its signature', async () => {
    expect(translate(await eventsOf('thinking.sse'))).toEqual([
      { type: 'reasoning_delta', text: 'I need to find the GCD of 1071 and 462.' },
      { type: 'reasoning_delta', text: ' 1071 = 2 × 462 + 147' },
      {
        type: 'reasoning_signature',
        meta: {
          provider: 'anthropic',
          signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
        },
      },
      { type: 'text_delta', text: 'The GCD is 21.' },
      usage(39, 120),
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('fails a stream that ended before message_stop as a network error', async () => {
    const events = await eventsOf('cut.sse');
    const state = createAnthropicState();
    const out: LlmEvent[] = [];
    for (const event of events) translateAnthropicEvent(event, state, out);
    expect(out).toEqual([
      { type: 'tool_call_start', id: 'toolu_01A09q90qw90lq917835lq9', name: 'read_file' },
      { type: 'tool_call_delta', id: 'toolu_01A09q90qw90lq917835lq9', argsText: '{"path": "src/' },
    ]);
    let thrown: unknown;
    try {
      endAnthropicStream(state, out);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StreamFailure);
    expect((thrown as StreamFailure).error).toMatchObject({ kind: 'network', retryable: true });
  });

  it('maps every stop reason to a finish reason', () => {
    const finishOf = (stop_reason: string) => {
      const events = [
        {
          type: 'message_delta',
          delta: { stop_reason, stop_sequence: null },
          usage: { output_tokens: 1 },
        },
        { type: 'message_stop' },
      ] as RawMessageStreamEvent[];
      return translate(events).at(-1);
    };
    expect(finishOf('end_turn')).toEqual({ type: 'finish', reason: 'stop' });
    expect(finishOf('stop_sequence')).toEqual({ type: 'finish', reason: 'stop' });
    expect(finishOf('tool_use')).toEqual({ type: 'finish', reason: 'tool_calls' });
    expect(finishOf('max_tokens')).toEqual({ type: 'finish', reason: 'length' });
    expect(finishOf('refusal')).toEqual({ type: 'finish', reason: 'content_filter' });
  });

  it('hands truncated tool JSON on as a failed parse, never as arguments', () => {
    const id = 'toolu_x';
    const events = [
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id, name: 'read_file', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"pa' },
      },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: 3 },
      },
      { type: 'message_stop' },
    ] as RawMessageStreamEvent[];
    const end = translate(events).find((e) => e.type === 'tool_call_end');
    expect(end).toMatchObject({ rawArgs: '{"pa', parsed: { ok: false } });
  });

  it('reads an argument-less call as empty arguments', () => {
    const events = [
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't', name: 'now', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '' },
      },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_stop' },
    ] as RawMessageStreamEvent[];
    expect(translate(events)).toContainEqual({
      type: 'tool_call_end',
      id: 't',
      name: 'now',
      rawArgs: '',
      parsed: { ok: true, args: {} },
    });
  });
});
