import { ApiError, type GenerateContentResponse, type GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimServer, type SimServer } from '../server.ts';
import {
  bodyOf,
  clientFor,
  collect,
  errorOf,
  fault,
  finishes,
  partsOf,
  startSim,
  tools,
} from './gemini-test-kit.ts';

let sim: SimServer;
let ai: GoogleGenAI;
beforeAll(async () => {
  ({ sim, ai } = await startSim());
});
afterAll(() => sim.close());

describe('errors and faults', () => {
  const ask = (config: object = {}, client: GoogleGenAI = ai) =>
    client.models.generateContentStream({ model: 'tern-sim', contents: 'hi', config });

  it('rate_limit is a 429 RESOURCE_EXHAUSTED with RetryInfo', async () => {
    const error = await errorOf(ask(fault('rate_limit')));
    expect(error.status).toBe(429);
    const body = bodyOf(error).error;
    expect(body.status).toBe('RESOURCE_EXHAUSTED');
    expect(body.details).toContainEqual({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: '1s',
    });
  });

  it('overloaded and unavailable are 503 UNAVAILABLE, server_error a 500 INTERNAL', async () => {
    for (const name of ['overloaded', 'unavailable']) {
      const error = await errorOf(ask(fault(name)));
      expect(error.status).toBe(503);
      expect(bodyOf(error).error).toMatchObject({
        status: 'UNAVAILABLE',
        message: 'The model is overloaded. Please try again later.',
      });
    }
    const error = await errorOf(ask(fault('server_error')));
    expect(error.status).toBe(500);
    expect(bodyOf(error).error.status).toBe('INTERNAL');
  });

  it('context_overflow is a 400 stating the 1048576-token window', async () => {
    const error = await errorOf(ask(fault('context_overflow')));
    expect(error.status).toBe(400);
    expect(bodyOf(error).error.message).toBe(
      'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).',
    );
  });

  it('refuses the key AIza-invalid with a 400 API_KEY_INVALID, not a 401', async () => {
    const client = clientFor(sim.url, 'AIza-invalid');
    const error = await errorOf(ask({}, client));
    expect(error.status).toBe(400);
    expect(bodyOf(error).error.details?.[0]).toMatchObject({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
    });
  });

  it('stream_error: chunks, then an in-stream error the SDK throws as an ApiError', async () => {
    const stream = await ai.models.generateContentStream({
      model: 'tern-sim',
      contents: 'tell me a long story please',
      config: fault('stream_error'),
    });
    const received: GenerateContentResponse[] = [];
    const error = await errorOf(
      (async () => {
        for await (const chunk of stream) received.push(chunk);
      })(),
    );
    expect(received.length).toBeGreaterThan(0);
    expect(finishes(received)).toEqual([]);
    expect(error.status).toBe(500);
    expect(error.message).toMatch(/^got status: INTERNAL\. \{"error":\{"code":500/);
  });

  it('cut drops the connection after some chunks; the SDK throws a plain error', async () => {
    const stream = await ask(fault('cut'));
    const received: GenerateContentResponse[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) received.push(chunk);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(ApiError);
    expect(received.length).toBeGreaterThan(0);
    expect(finishes(received)).toEqual([]);
  });

  it('hang never answers, and an abort signal ends the wait', async () => {
    const started = performance.now();
    const failure = await ask({ ...fault('hang'), abortSignal: AbortSignal.timeout(100) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((failure as Error).name).toMatch(/AbortError|TimeoutError/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('truncated_tool_json ends with MALFORMED_FUNCTION_CALL and no call', async () => {
    const chunks = await collect(
      await ai.models.generateContentStream({
        model: 'tern-sim',
        contents: 'read README.md',
        config: { tools, ...fault('truncated_tool_json') },
      }),
    );
    expect(partsOf(chunks).some((p) => p.functionCall)).toBe(false);
    expect(finishes(chunks)).toEqual(['MALFORMED_FUNCTION_CALL']);
  });

  it('slow_drip spaces the chunks 200 ms apart', async () => {
    const arrivals: number[] = [];
    const stream = await ai.models.generateContentStream({
      model: 'tern-sim',
      contents: 'hi',
      config: { maxOutputTokens: 4, ...fault('slow_drip') },
    });
    for await (const _ of stream) arrivals.push(performance.now());
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < arrivals.length; i++) {
      expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThan(150);
    }
  });

  it('is tried once: the SDK does not retry a 503 by default', async () => {
    const fresh = await createSimServer();
    try {
      const client = clientFor(fresh.url);
      await errorOf(ask(fault('unavailable'), client));
      const metrics = await (await fetch(`${fresh.url}/metrics`)).text();
      expect(metrics).toContain('tern_sim_requests_total{route="/v1beta/models/*",status="503"} 1');
    } finally {
      await fresh.close();
    }
  });
});
