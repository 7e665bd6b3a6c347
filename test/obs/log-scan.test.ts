import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { freePort } from '../helpers/free-port.ts';
import { http } from '../helpers/http.ts';
import { entries, stopProcess } from '../helpers/stack.ts';
import { useStack } from '../helpers/use-stack.ts';
import { startOtlpReceiver } from './otlp-receiver.ts';

// A stack with a provider key for every provider (unique per run, so any occurrence is a leak),
// API tokens, and traces exported, runs turns on every provider, failing ones included, and
// answers bad requests. Then every process log and every exported span is scanned for the keys,
// the tokens, bearer headers, `authorization` and the user's prompt.

const secret = (prefix: string) => `${prefix}${randomBytes(18).toString('hex')}`;
const keys = {
  OPENAI_API_KEY: secret('sk-test-'),
  OPENAI_COMPATIBLE_API_KEY: secret('sk-compat-test-'),
  ANTHROPIC_API_KEY: secret('sk-ant-test-'),
  GEMINI_API_KEY: secret('AIza-test-'),
  AWS_ACCESS_KEY_ID: secret('AKIATEST'),
  AWS_SECRET_ACCESS_KEY: secret('aws-secret-test-'),
};
const PROMPT = `Please read README.md, the words ${secret('prompt-marker-')} are private`;

// The OpenAI provider needs its base URL before the stack starts: a simulator of its own.
const openAiPort = await freePort();
const openAiSim: ChildProcess = spawn(process.execPath, [entries.sim], {
  env: { PATH: process.env.PATH, SIM_PORT: String(openAiPort) },
  stdio: 'ignore',
});
const receiver = await startOtlpReceiver();
const handle = useStack({
  env: {
    ...keys,
    OPENAI_BASE_URL: `http://127.0.0.1:${openAiPort}/v1`,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    LOG_LEVEL: 'debug',
  },
});

afterAll(async () => {
  await stopProcess(openAiSim);
  await receiver.close();
});

let adminToken = '';

async function finishTurn(model: string, text: string, sim?: Record<string, unknown>) {
  const { stack, collector } = handle;
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
    model,
    files: { 'README.md': 'private workspace' },
    ...(sim ? { sim } : {}),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.session.id as string;
  await collector.subscribe(id, '0-0');
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text });
  expect(posted.status).toBe(202);
  await collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId), 30_000);
  return id;
}

describe('no secret or prompt reaches a log line or a span', () => {
  beforeAll(async () => {
    const { stack } = handle;
    adminToken = await stack.addUser('scan-admin', { admin: true });
    await finishTurn('openai:gpt-4.1-mini', PROMPT);
    await finishTurn('anthropic:claude-sonnet-4-5', PROMPT);
    await finishTurn('gemini:gemini-2.5-flash', PROMPT);
    await finishTurn('openai-compatible:tern-sim', PROMPT);
    // Provider failures, retried and logged as errors of their turns.
    await finishTurn('openai:gpt-4.1-mini', PROMPT, { fault: 'server_error' });
    await finishTurn('anthropic:claude-sonnet-4-5', PROMPT, { fault: 'overloaded' });
    // Requests the API refuses, with and without credentials.
    await http('GET', `${stack.apiUrl}/v1/sessions`, undefined, {
      authorization: `Bearer ${adminToken}x`,
    });
    await http('GET', `${stack.apiUrl}/v1/sessions`, undefined, {
      authorization: `Bearer ${adminToken}`,
    });
    await http('POST', `${stack.apiUrl}/v1/sessions`, '{"broken', {
      'content-type': 'application/json',
    });
    await http('GET', `${stack.apiUrl}/v1/sessions/ses_nope/stats`);
    await receiver.waitFor(
      (spans) => spans.filter((s) => s.name.startsWith('invoke_agent')).length >= 6,
    );
  }, 180_000);

  const logs = () =>
    handle.stack.processes.map((p) => ({ name: p.name, text: readFileSync(p.logFile, 'utf8') }));

  it('logs every process did write something to scan', () => {
    const byName = new Map(logs().map((l) => [l.name, l.text]));
    for (const name of ['api', 'gateway', 'worker-1']) {
      expect(byName.get(name)?.length ?? 0, name).toBeGreaterThan(100);
    }
    // The turns were logged, with their ids, while their prompts were not.
    expect(byName.get('worker-1')).toContain('"msg":"turn finished"');
  });

  it('finds no provider key, API token, bearer header or authorization in any log', () => {
    const tokens = [handle.stack.token, adminToken];
    for (const { name, text } of logs()) {
      for (const [variable, key] of Object.entries(keys)) {
        expect(text.includes(key), `${variable} in the ${name} log`).toBe(false);
      }
      for (const token of tokens)
        expect(text.includes(token), `a token in the ${name} log`).toBe(false);
      expect(text, name).not.toMatch(/authorization/i);
      expect(text, name).not.toMatch(/bearer\s/i);
    }
  });

  it("keeps the user's prompt out of the logs", () => {
    for (const { name, text } of logs()) {
      expect(text.includes('prompt-marker-'), name).toBe(false);
    }
  });

  it('exports spans that carry no key, token or prompt', () => {
    expect(receiver.bodies.length).toBeGreaterThan(0);
    const exported = receiver.bodies.join('\n');
    for (const key of [...Object.values(keys), handle.stack.token, adminToken]) {
      expect(exported.includes(key)).toBe(false);
    }
    expect(exported.includes('prompt-marker-')).toBe(false);
    expect(exported).not.toMatch(/authorization|bearer\s/i);
  });
});
