import { readFileSync } from 'node:fs';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

type ToolFinished = Extract<LogEntry, { kind: 'tool_finished' }>;

let stack: Stack;
let collector: Collector;

beforeAll(async () => {
  stack = await startStack();
  collector = await connectCollector(stack.gatewayUrl);
});

afterAll(async () => {
  collector?.close();
  await stack?.stop();
});

const wordCount = {
  name: 'word_count',
  description: 'Counts the words of a text',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  runtime: 'python',
  code: 'import json, sys\nprint(len(json.load(sys.stdin)["text"].split()))\n',
  reason: 'I count words often',
};

/**
 * The scripted model of the session: one turn proposes four tools, the next calls them. The sim
 * picks the step from the number of assistant messages in the request, so the second turn
 * carries on where the first stopped.
 */
function scenario(stack: Stack) {
  const tool = (name: string, runtime: string, code: string) => ({
    name,
    description: `The ${name} tool`,
    parameters: { type: 'object', properties: {} },
    runtime,
    code,
    reason: `to try ${name}`,
  });
  const proposals = [
    wordCount,
    tool('read_secrets', 'bash', `cat /etc/shadow\nls ${stack.dataDir}\n`),
    tool(
      'net_probe',
      'node',
      [
        `const socket = require('node:net').connect(${stack.redis.port}, '127.0.0.1');`,
        "socket.on('connect', () => { console.log('connected to redis'); process.exit(0); });",
        "socket.on('error', (e) => { console.error('refused: ' + e.code); process.exit(3); });",
      ].join('\n'),
    ),
    tool('shout', 'bash', 'tr a-z A-Z'),
  ];
  return {
    steps: [
      {
        toolCalls: proposals.map((args) => ({ name: 'propose_tool', arguments: args })),
      },
      { text: 'I proposed four tools.', finish: 'stop' },
      {
        toolCalls: [
          { name: 'word_count', arguments: { text: 'one two three' } },
          { name: 'read_secrets', arguments: {} },
          { name: 'net_probe', arguments: {} },
          { name: 'shout', arguments: {} },
        ],
      },
      { text: 'I used the tools.', finish: 'stop' },
    ],
  };
}

async function turn(sessionId: string, text: string): Promise<ToolFinished[]> {
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${sessionId}/messages`, { text });
  expect(posted.status).toBe(202);
  const turnId = posted.body.turnId as string;
  await collector.waitFor((all) => finishedTurns(all).includes(turnId), 60_000);
  const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${sessionId}`);
  return (detail.body.entries as LogEntry[]).filter(
    (e): e is ToolFinished => e.kind === 'tool_finished' && e.turnId === turnId,
  );
}

const proposalsUrl = (sessionId: string) =>
  `${stack.apiUrl}/v1/sessions/${sessionId}/tool-proposals`;

describe('self-extension: the agent proposes a tool, a human approves it, it runs sandboxed', () => {
  it('stores proposals as pending, offers only approved ones, and runs them in the sandbox', async () => {
    const installed = await http(
      'PUT',
      `${stack.simUrl}/sim/scenarios/tool-proposals`,
      scenario(stack),
    );
    expect(installed.status).toBe(200);
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      title: 'self-extension',
      sim: { scenario: 'tool-proposals' },
    });
    expect(created.status).toBe(201);
    const sessionId = created.body.session.id as string;
    await collector.subscribe(sessionId, '0-0');

    // Turn 1: the model proposes; each proposal is stored and acknowledged with its id.
    const proposed = await turn(sessionId, 'Make yourself some tools');
    expect(proposed.map((r) => [r.name, r.ok])).toEqual([
      ['propose_tool', true],
      ['propose_tool', true],
      ['propose_tool', true],
      ['propose_tool', true],
    ]);
    const ids = proposed.map((r) => /\(id (tp_[0-9a-f]{32})\)/.exec(r.output)?.[1] ?? '');
    expect(proposed[0]!.output).toBe(
      `Proposed word_count; waiting for review (id ${ids[0]}). It will be available after a human approves it, from a later turn on; until then it cannot be called.`,
    );
    const [wordCountId, secretsId, netId, shoutId] = ids as [string, string, string, string];

    // The API lists them for review, with everything a reviewer needs.
    const listed = await http('GET', proposalsUrl(sessionId));
    expect(listed.status).toBe(200);
    expect(listed.body.proposals.map((p: { name: string }) => p.name)).toEqual([
      'word_count',
      'read_secrets',
      'net_probe',
      'shout',
    ]);
    expect(listed.body.proposals[0]).toEqual({
      id: wordCountId,
      sessionId,
      ...wordCount,
      status: 'pending',
      proposedAt: expect.any(Number),
      decidedAt: null,
      decidedBy: null,
      decisionReason: null,
    });
    const one = await http('GET', `${proposalsUrl(sessionId)}/${netId}`);
    expect(one.body.proposal).toMatchObject({ id: netId, name: 'net_probe', runtime: 'node' });

    // A human decides.
    const decide = (id: string, body: unknown) =>
      http('POST', `${proposalsUrl(sessionId)}/${id}/decision`, body);
    for (const id of [wordCountId, secretsId, netId]) {
      const approved = await decide(id, { approve: true });
      expect(approved.status).toBe(200);
      expect(approved.body.proposal).toMatchObject({
        id,
        status: 'approved',
        decidedBy: 'tester',
      });
    }
    const rejected = await decide(shoutId, { approve: false, reason: 'not useful' });
    expect(rejected.body.proposal).toMatchObject({
      status: 'rejected',
      decisionReason: 'not useful',
      decidedAt: expect.any(Number),
    });
    // Deciding again the same way changes nothing; the other way is refused.
    const again = await decide(shoutId, { approve: false });
    expect(again.status).toBe(200);
    expect(again.body.proposal).toEqual(rejected.body.proposal);
    const flip = await decide(shoutId, { approve: true });
    expect(flip.status).toBe(409);
    expect(flip.body.error).toMatchObject({
      code: 'already_decided',
      details: { status: 'rejected' },
    });
    const pending = await http('GET', `${proposalsUrl(sessionId)}?status=pending`);
    expect(pending.body.proposals).toEqual([]);
    const approvedList = await http('GET', `${proposalsUrl(sessionId)}?status=approved`);
    expect(approvedList.body.proposals).toHaveLength(3);

    // Turn 2: approved tools are offered and run in the sandbox; the rejected one does not exist.
    const used = await turn(sessionId, 'Use them');
    const byName = new Map(used.map((r) => [r.name, r]));
    expect(byName.get('word_count')).toMatchObject({ ok: true, output: '3\n' });

    const secrets = byName.get('read_secrets')!;
    const shadowHead = readFileSync('/etc/shadow', 'utf8').split(':')[0]!;
    expect(secrets.ok).toBe(false);
    expect(secrets.output).not.toContain(`${shadowHead}:`);
    expect(secrets.output).toContain(
      `ls: cannot access '${stack.dataDir}': No such file or directory`,
    );

    const net = byName.get('net_probe')!;
    expect(net.ok).toBe(false);
    expect(net.output).toContain('refused: ECONNREFUSED');
    expect(net.output).not.toContain('connected to redis');

    const shout = byName.get('shout')!;
    expect(shout.ok).toBe(false);
    expect(shout.output).toMatch(/^Unknown tool shout\. Available tools: .*word_count/);
    expect(shout.output).not.toMatch(/Available tools: .*shout/);
  });

  it('answers unknown sessions, proposals and bad input with 4xx codes', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, { title: 'empty' });
    const sessionId = created.body.session.id as string;
    const missing = 'tp_00000000000000000000000000000000';
    const cases: [string, string, unknown, number, string][] = [
      [
        'GET',
        '/v1/sessions/ses_nosuchsession1/tool-proposals',
        undefined,
        404,
        'session_not_found',
      ],
      ['GET', '/v1/sessions/nope/tool-proposals', undefined, 404, 'session_not_found'],
      [
        'GET',
        `/v1/sessions/${sessionId}/tool-proposals/${missing}`,
        undefined,
        404,
        'tool_proposal_not_found',
      ],
      [
        'GET',
        `/v1/sessions/${sessionId}/tool-proposals/bad-id`,
        undefined,
        404,
        'tool_proposal_not_found',
      ],
      [
        'GET',
        `/v1/sessions/${sessionId}/tool-proposals?status=maybe`,
        undefined,
        400,
        'invalid_request',
      ],
      [
        'POST',
        `/v1/sessions/${sessionId}/tool-proposals/${missing}/decision`,
        { approve: true },
        404,
        'tool_proposal_not_found',
      ],
      [
        'POST',
        `/v1/sessions/ses_nosuchsession1/tool-proposals/${missing}/decision`,
        { approve: true },
        404,
        'session_not_found',
      ],
      [
        'POST',
        `/v1/sessions/${sessionId}/tool-proposals/${missing}/decision`,
        { approve: 'yes' },
        400,
        'invalid_request',
      ],
      [
        'POST',
        `/v1/sessions/${sessionId}/tool-proposals/${missing}/decision`,
        { approve: true, by: 'me' },
        400,
        'invalid_request',
      ],
      [
        'POST',
        `/v1/sessions/${sessionId}/tool-proposals/${missing}/decision`,
        '{"approve":',
        400,
        'invalid_json',
      ],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await http(method, `${stack.apiUrl}${path}`, body);
      expect([method, path, res.status, res.body?.error?.code]).toEqual([
        method,
        path,
        status,
        code,
      ]);
    }
    const empty = await http('GET', proposalsUrl(sessionId));
    expect(empty).toMatchObject({ status: 200, body: { proposals: [] } });
  });
});
