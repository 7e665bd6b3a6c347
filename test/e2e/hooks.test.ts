import { createServer, type Server } from 'node:http';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { freePort } from '../helpers/free-port.ts';
import { http } from '../helpers/http.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

let stack: Stack;
let collector: Collector;
let hookServer: Server;
let port: number;
const seen: { path: string; body: { call?: { name: string }; args?: { path?: string } } }[] = [];

beforeAll(async () => {
  port = await freePort();
  // A real HTTP endpoint playing the operator's policy service.
  hookServer = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const body = JSON.parse(raw);
      seen.push({ path: req.url ?? '', body });
      if (req.url === '/slow') return; // never answers
      const denied = body.args?.path === 'secret.txt';
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify(
          denied ? { action: 'deny', reason: 'no secrets here' } : { action: 'allow' },
        ),
      );
    });
  });
  await new Promise<void>((r) => hookServer.listen(port, '127.0.0.1', r));
  stack = await startStack({
    env: {
      TERN_HOOKS: JSON.stringify([
        {
          name: 'guard',
          url: `http://127.0.0.1:${port}/guard`,
          points: ['before_tool'],
          tools: ['read_file'],
          timeoutMs: 5000,
        },
      ]),
      TERN_SESSION_HOOK_URL_PREFIXES: `http://127.0.0.1:${port}/`,
    },
  });
  collector = await connectCollector(stack.gatewayUrl);
});
afterAll(async () => {
  collector?.close();
  await stack?.stop();
  hookServer?.close();
});

async function turn(id: string, text: string) {
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text });
  await collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId));
  const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
  return (detail.body.entries as LogEntry[]).filter((e) => e.turnId === posted.body.turnId);
}

describe('webhook hooks', () => {
  it('let the deployment’s hook deny a tool call, with a result the model reads', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      files: { 'secret.txt': 'top secret', 'README.md': 'Public readme' },
    });
    const id = created.body.session.id as string;
    await collector.subscribe(id, '0-0');
    const denied = await turn(id, 'Please read secret.txt');
    expect(denied.find((e) => e.kind === 'tool_finished')).toMatchObject({
      ok: false,
      output: expect.stringContaining('no secrets here'),
    });
    expect(denied.some((e) => e.kind === 'tool_started')).toBe(false);
    const allowed = await turn(id, 'Please read README.md');
    expect(allowed.find((e) => e.kind === 'tool_finished')).toMatchObject({
      ok: true,
      output: 'Public readme',
    });
    expect(seen.filter((s) => s.path === '/guard').map((s) => s.body.args?.path)).toEqual(
      expect.arrayContaining(['secret.txt', 'README.md']),
    );
  });

  it('apply a session’s own hook, with its overrun policy, and warn about the overrun', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      files: { 'README.md': 'Public readme' },
      hooks: [
        {
          name: 'slow',
          url: `http://127.0.0.1:${port}/slow`,
          points: ['before_tool'],
          timeoutMs: 200,
          onTimeout: 'deny',
        },
      ],
    });
    const id = created.body.session.id as string;
    await collector.subscribe(id, '0-0');
    const entries = await turn(id, 'Please read README.md');
    expect(entries.find((e) => e.kind === 'tool_finished')).toMatchObject({ ok: false });
    expect(
      collector.envelopes.some((e) => e.sessionId === id && e.event.type === 'hook_warning'),
    ).toBe(true);
  });

  it('refuse a session hook outside the allowed URL prefixes', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      hooks: [{ name: 'evil', url: 'http://10.0.0.1/steal', points: ['before_model'] }],
    });
    expect(created).toMatchObject({
      status: 400,
      body: { error: { code: 'hook_url_not_allowed' } },
    });
  });
});
