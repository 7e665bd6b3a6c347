import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';

// Byte-level checks below what the SDK's tolerant parser would let slip.

let sim: SimServer;
beforeAll(async () => {
  sim = await createSimServer();
});
afterAll(() => sim.close());

const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
const post = (body: unknown, extra: Record<string, string> = {}) =>
  fetch(`${sim.url}/v1/messages`, {
    method: 'POST',
    headers: { ...headers, ...extra },
    body: JSON.stringify(body),
  });

describe('Anthropic SSE framing', () => {
  it('names every event, and sends the exact events of the real API for a short reply', async () => {
    const response = await post({
      model: 'tern-sim',
      max_tokens: 2,
      stream: true,
      messages: [{ role: 'user', content: 'ok' }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const requestId = response.headers.get('request-id');
    expect(requestId).toMatch(/^req_011C/);
    expect(response.headers.get('x-request-id')).toBeNull();
    const text = await response.text();
    const id = /"id":"(msg_[^"]+)"/.exec(text)?.[1];

    expect(text).toBe(
      'event: message_start\n' +
        `data: {"type":"message_start","message":{"id":"${id}","type":"message","role":"assistant","model":"tern-sim","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}\n\n` +
        'event: content_block_start\n' +
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
        'event: ping\n' +
        'data: {"type": "ping"}\n\n' +
        'event: content_block_delta\n' +
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"You"}}\n\n' +
        'event: content_block_stop\n' +
        'data: {"type":"content_block_stop","index":0}\n\n' +
        'event: message_delta\n' +
        'data: {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":1}}\n\n' +
        'event: message_stop\n' +
        'data: {"type":"message_stop"}\n\n',
    );
  });

  it('frames an in-stream error as an error event and ends the body cleanly', async () => {
    const response = await post(
      {
        model: 'tern-sim',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      },
      { 'x-tern-sim-fault': 'stream_error' },
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(
      text.endsWith(
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
      ),
    ).toBe(true);
    expect(text).not.toContain('message_stop');
  });

  it('closes a thinking block with a signature_delta before content_block_stop', async () => {
    const response = await post({
      model: 'tern-sim',
      max_tokens: 2048,
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'hi' }],
    });
    const events = (await response.text()).split('\n\n').filter(Boolean);
    const firstStop = events.findIndex((e) => e.startsWith('event: content_block_stop'));
    expect(events[1]).toBe(
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}',
    );
    expect(events[firstStop - 1]).toMatch(
      /^event: content_block_delta\ndata: \{"type":"content_block_delta","index":0,"delta":\{"type":"signature_delta","signature":"Eu[^"]+"\}\}$/,
    );
  });
});

describe('request checks', () => {
  it('requires the anthropic-version header', async () => {
    const response = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ model: 'tern-sim', max_tokens: 5, messages: [] }),
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
      request_id: response.headers.get('request-id'),
    });
  });

  it('answers a malformed body with the API error shape', async () => {
    const response = await post({ model: 'tern-sim', messages: [{ role: 'user', content: 'x' }] });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
  });
});

describe('GET /v1/models', () => {
  it("answers the Anthropic SDK in Anthropic's list shape", async () => {
    const client = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const page = await client.models.list();
    expect(page.data).toEqual([
      {
        type: 'model',
        id: 'tern-sim',
        display_name: 'Tern Sim',
        created_at: '2025-01-01T00:00:00Z',
      },
      {
        type: 'model',
        id: 'tern-sim-fast',
        display_name: 'Tern Sim Fast',
        created_at: '2025-01-01T00:00:00Z',
      },
    ]);
    expect(page.has_more).toBe(false);
    expect(page.first_id).toBe('tern-sim');
    expect(page.last_id).toBe('tern-sim-fast');
  });

  it("keeps OpenAI's shape for requests without anthropic-version", async () => {
    const body = (await (await fetch(`${sim.url}/v1/models`)).json()) as {
      object: string;
      data: { id: string; object: string }[];
    };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => [m.id, m.object])).toEqual([
      ['tern-sim', 'model'],
      ['tern-sim-fast', 'model'],
    ]);
  });
});
