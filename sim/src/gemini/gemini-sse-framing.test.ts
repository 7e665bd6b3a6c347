import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';
import { callSignature } from './gemini-signatures.ts';

// Byte-level check of the framing, below what the SDK's tolerant parser would let slip: Google
// sends `data: ` lines of JSON with a space after each colon, separated by CRLF CRLF, and no
// terminating `[DONE]`.

let sim: SimServer;
beforeAll(async () => {
  sim = await createSimServer();
});
afterAll(() => sim.close());

const stream = (body: unknown) =>
  fetch(`${sim.url}/v1beta/models/tern-sim:streamGenerateContent?alt=sse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test' },
    body: JSON.stringify(body),
  });

function responseIdOf(text: string): string {
  return /"responseId": "([A-Za-z0-9_-]{23})"/.exec(text)?.[1] ?? 'missing';
}

describe('Gemini SSE framing', () => {
  it('sends a short text reply as one data line with CRLF CRLF, usage and finish inside', async () => {
    const response = await stream({
      contents: [{ role: 'user', parts: [{ text: 'ok' }] }],
      generationConfig: { maxOutputTokens: 3 },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('content-disposition')).toBe('attachment');
    const text = await response.text();
    expect(text).toBe(
      `data: {"candidates": [{"content": {"parts": [{"text": "You said:"}],"role": "model"},"finishReason": "MAX_TOKENS","index": 0}],"usageMetadata": {"promptTokenCount": 1,"candidatesTokenCount": 3,"totalTokenCount": 4,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 1}]},"modelVersion": "tern-sim","responseId": "${responseIdOf(text)}"}\r\n\r\n`,
    );
  });

  it('streams thoughts, then the signed call whole, each chunk with the running usage', async () => {
    const response = await stream({
      contents: [{ role: 'user', parts: [{ text: 'read a.md' }] }],
      tools: [
        {
          functionDeclarations: [
            {
              name: 'read_file',
              parameters: { type: 'OBJECT', properties: { path: { type: 'STRING' } } },
            },
          ],
        },
      ],
      generationConfig: { thinkingConfig: { includeThoughts: true, thinkingBudget: 64 } },
    });
    const text = await response.text();
    const tail = (usage: string) =>
      `,"index": 0}],"usageMetadata": {"promptTokenCount": 4,${usage}"promptTokensDetails": [{"modality": "TEXT","tokenCount": 4}],"thoughtsTokenCount": 19},"modelVersion": "tern-sim","responseId": "${responseIdOf(text)}"}\r\n\r\n`;
    const thought = (words: string) =>
      `data: {"candidates": [{"content": {"parts": [{"text": "${words}","thought": true}],"role": "model"}${tail('"totalTokenCount": 23,')}`;
    const signature = callSignature('read_file', { path: 'a.md' });
    expect(text).toBe(
      thought('The user mentioned') +
        thought(' a.md, so I') +
        thought(' will read it') +
        thought(' with read_file.') +
        `data: {"candidates": [{"content": {"parts": [{"functionCall": {"name": "read_file","args": {"path": "a.md"}},"thoughtSignature": "${signature}"}],"role": "model"},"finishReason": "STOP"${tail('"candidatesTokenCount": 14,"totalTokenCount": 37,')}`,
    );
  });

  it('ends an in-stream error as Google does: an error event, then a clean end', async () => {
    const response = await fetch(
      `${sim.url}/v1beta/models/tern-sim:streamGenerateContent?alt=sse`,
      {
        method: 'POST',
        headers: { 'x-tern-sim-fault': 'stream_error' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'tell me a long story please' }] }] }),
      },
    );
    expect(response.status).toBe(200);
    const events = (await response.text()).split('\r\n\r\n');
    expect(events.at(-1)).toBe('');
    expect(events.at(-2)).toBe(
      'data: {"error": {"code": 500,"message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting","status": "INTERNAL"}}',
    );
    expect(events.length).toBeGreaterThan(2);
  });

  it('streams a JSON array when alt=sse is not asked for', async () => {
    const response = await fetch(`${sim.url}/v1beta/models/tern-sim:streamGenerateContent`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hello there' }] }] }),
    });
    expect(response.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    const body = (await response.json()) as { candidates: unknown[] }[];
    expect(body.length).toBeGreaterThan(1);
    expect(body.every((chunk) => chunk.candidates.length === 1)).toBe(true);
  });
});
