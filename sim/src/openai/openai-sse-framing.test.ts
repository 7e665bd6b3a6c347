import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';

// Byte-level check of the SSE framing, below what the SDK's tolerant parser would let slip.

let sim: SimServer;
beforeAll(async () => {
  sim = await createSimServer();
});
afterAll(() => sim.close());

describe('OpenAI SSE framing', () => {
  it('sends each chunk as one compact data line followed by a blank line, then [DONE]', async () => {
    const response = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tern-sim',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'ok' }],
        max_tokens: 2,
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    const text = await response.text();

    const first = JSON.parse(text.slice('data: '.length, text.indexOf('\n'))) as {
      id: string;
      created: number;
    };
    const envelope = `{"id":"${first.id}","object":"chat.completion.chunk","created":${first.created},"model":"tern-sim","service_tier":"default","system_fingerprint":"fp_7e5a51a1c0"`;
    const choice = (delta: string, finish: string) =>
      `data: ${envelope},"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}],"usage":null}\n\n`;
    expect(text).toBe(
      choice('{"role":"assistant","content":"","refusal":null}', 'null') +
        choice('{"content":"You"}', 'null') +
        choice('{}', '"length"') +
        `data: ${envelope},"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}\n\n` +
        'data: [DONE]\n\n',
    );
  });

  it('omits the usage field entirely when usage was not requested', async () => {
    const response = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'tern-sim',
        stream: true,
        messages: [{ role: 'user', content: 'ok' }],
      }),
    });
    const text = await response.text();
    expect(text).not.toContain('"usage"');
    expect(text.endsWith('}\n\ndata: [DONE]\n\n')).toBe(true);
  });

  it('frames vLLM’s envelope: no fingerprint, stop_reason on the finish, bare usage', async () => {
    const response = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-tern-sim-dialect': 'vllm' },
      body: JSON.stringify({
        model: 'tern-sim',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'ok' }],
        max_tokens: 2,
      }),
    });
    const text = await response.text();
    const first = JSON.parse(text.slice('data: '.length, text.indexOf('\n'))) as {
      id: string;
      created: number;
    };
    expect(first.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    const envelope = `{"id":"${first.id}","object":"chat.completion.chunk","created":${first.created},"model":"tern-sim"`;
    const choice = (delta: string, finish: string) =>
      `data: ${envelope},"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
    expect(text).toBe(
      choice('{"role":"assistant","content":""}', 'null') +
        choice('{"content":"You"}', 'null') +
        `data: ${envelope},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length","stop_reason":null}]}\n\n` +
        `data: ${envelope},"choices":[],"usage":{"prompt_tokens":1,"total_tokens":2,"completion_tokens":1}}\n\n` +
        'data: [DONE]\n\n',
    );
  });
});
