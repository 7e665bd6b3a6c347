import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCollector } from '../helpers/event-collector.ts';
import { freePort } from '../helpers/free-port.ts';
import { type HttpResult, http } from '../helpers/http.ts';
import { entries, type Stack, startStack } from '../helpers/stack.ts';

let stack: Stack;
let sessionId: string;

beforeAll(async () => {
  stack = await startStack({ workers: 1 });
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {});
  sessionId = created.body.session.id;
});
afterAll(async () => {
  await stack?.stop();
});

const api = (path: string) => `${stack.apiUrl}${path}`;

describe('bad input gets a 4xx with a machine-readable code, never a 500', () => {
  const cases: [string, () => Promise<HttpResult>, number, string][] = [
    [
      'unknown session',
      () => http('GET', api('/v1/sessions/ses_doesnotexist00')),
      404,
      'session_not_found',
    ],
    [
      'malformed session id',
      () => http('GET', api('/v1/sessions/..%2F..%2Fetc')),
      404,
      'session_not_found',
    ],
    [
      'message to unknown session',
      () => http('POST', api('/v1/sessions/ses_doesnotexist00/messages'), { text: 'hi' }),
      404,
      'session_not_found',
    ],
    ['malformed JSON', () => http('POST', api('/v1/sessions'), '{"title": '), 400, 'invalid_json'],
    [
      'JSON that is not an object',
      () => http('POST', api('/v1/sessions'), '"just a string"'),
      400,
      'invalid_json',
    ],
    [
      'unknown field',
      () => http('POST', api('/v1/sessions'), { titel: 'typo' }),
      400,
      'invalid_request',
    ],
    [
      'bad model ref',
      () => http('POST', api('/v1/sessions'), { model: 'gpt-4' }),
      400,
      'invalid_request',
    ],
    [
      'workspace path escaping',
      () => http('POST', api('/v1/sessions'), { files: { '../x': 'y' } }),
      400,
      'invalid_request',
    ],
    [
      'absolute workspace path',
      () => http('POST', api('/v1/sessions'), { files: { '/etc/passwd': 'y' } }),
      400,
      'invalid_request',
    ],
    [
      'missing text',
      () => http('POST', api(`/v1/sessions/${sessionId}/messages`), {}),
      400,
      'invalid_request',
    ],
    [
      'empty text',
      () => http('POST', api(`/v1/sessions/${sessionId}/messages`), { text: '' }),
      400,
      'invalid_request',
    ],
    [
      'text of the wrong type',
      () => http('POST', api(`/v1/sessions/${sessionId}/messages`), { text: 42 }),
      400,
      'invalid_request',
    ],
    [
      'no body at all',
      () => http('POST', api(`/v1/sessions/${sessionId}/messages`)),
      400,
      'invalid_request',
    ],
    [
      'oversize body',
      () =>
        http('POST', api(`/v1/sessions/${sessionId}/messages`), { text: 'x'.repeat(2_000_000) }),
      413,
      'payload_too_large',
    ],
    [
      'wrong content type',
      () =>
        http('POST', api('/v1/sessions'), 'title=x', {
          'content-type': 'application/x-www-form-urlencoded',
        }),
      415,
      'unsupported_media_type',
    ],
    ['limit out of range', () => http('GET', api('/v1/sessions?limit=0')), 400, 'invalid_request'],
    [
      'limit not a number',
      () => http('GET', api('/v1/sessions?limit=many')),
      400,
      'invalid_request',
    ],
    ['bad cursor', () => http('GET', api('/v1/sessions?cursor=abc')), 400, 'invalid_request'],
    [
      'PATCH with nothing to change',
      () => http('PATCH', api(`/v1/sessions/${sessionId}`), {}),
      400,
      'invalid_request',
    ],
    [
      'PATCH to a bad model',
      () => http('PATCH', api(`/v1/sessions/${sessionId}`), { model: 'x' }),
      400,
      'invalid_request',
    ],
    [
      'PATCH an unknown session',
      () => http('PATCH', api('/v1/sessions/ses_doesnotexist00'), { title: 't' }),
      404,
      'session_not_found',
    ],
    ['unknown route', () => http('GET', api('/v1/nothing-here')), 404, 'route_not_found'],
    ['wrong method', () => http('DELETE', api('/v1/sessions')), 404, 'route_not_found'],
  ];

  for (const [name, call, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const res = await call();
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
    });
  }

  it('lists each invalid field in the error details', async () => {
    const res = await http('POST', api('/v1/sessions'), { title: '', model: 'nope' });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.issues.map((i: { path: string[] }) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['title', 'model']));
  });

  it('keeps serving after a burst of bad requests', async () => {
    await Promise.all(Array.from({ length: 50 }, () => http('POST', api('/v1/sessions'), '{')));
    const ok = await http('GET', api('/v1/sessions'));
    expect(ok.status).toBe(200);
  });
});

describe('the gateway refuses bad subscriptions with a code', () => {
  it('answers unknown and malformed sessions with ok:false', async () => {
    const client = await connectCollector(stack.gatewayUrl);
    try {
      expect(await client.subscribe('ses_doesnotexist00')).toMatchObject({
        ok: false,
        code: 'session_not_found',
      });
      expect(await client.subscribe('not a session')).toMatchObject({
        ok: false,
        code: 'invalid_request',
      });
      expect(await client.subscribe(sessionId, 'not-an-id')).toMatchObject({
        ok: false,
        code: 'invalid_request',
      });
      expect(await client.subscribe(sessionId)).toMatchObject({ ok: true });
    } finally {
      client.close();
    }
  });
});

describe('a process started without Redis', () => {
  for (const role of ['api', 'gateway', 'worker'] as const) {
    it(`${role} says so clearly and exits non-zero, without a stack trace`, async () => {
      const port = await freePort();
      const child = spawn(process.execPath, [entries[role]], {
        env: {
          PATH: process.env.PATH,
          REDIS_URL: `redis://127.0.0.1:${port}`,
          API_PORT: '0',
          GATEWAY_PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const code = await new Promise((r) => child.once('exit', r));
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
      expect(stderr).not.toMatch(/^\s+at /m);
    });
  }
});
