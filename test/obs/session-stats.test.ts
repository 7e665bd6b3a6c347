import { sessionStatsSchema } from '@tern/shared/protocol/session-stats';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { runTern } from '../helpers/run-tern.ts';
import { useStack } from '../helpers/use-stack.ts';

// GET /v1/sessions/:id/stats and `tern session stats <id>` against a session that ran real turns.

const handle = useStack();

const tern = (args: string[]) =>
  runTern(args, { TERN_API_URL: handle.stack.apiUrl, TERN_TOKEN: handle.stack.token });

async function sessionWithTurns(texts: string[]): Promise<string> {
  const { stack, collector } = handle;
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
    files: { 'README.md': 'stats workspace' },
  });
  const id = created.body.session.id as string;
  await collector.subscribe(id, '0-0');
  for (const text of texts) {
    const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text });
    await collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId));
  }
  return id;
}

describe('the per-session view', () => {
  it('returns the tool-call graph, totals, log size and checkpoints of a session', async () => {
    const id = await sessionWithTurns(['Please read README.md', 'thanks']);
    const res = await http('GET', `${handle.stack.apiUrl}/v1/sessions/${id}/stats`);
    expect(res.status).toBe(200);
    const stats = sessionStatsSchema.parse(res.body);
    const log = (await http('GET', `${handle.stack.apiUrl}/v1/sessions/${id}`)).body
      .entries as LogEntry[];
    const answers = log.filter((e) => e.kind === 'assistant_message');

    expect(stats.totals).toMatchObject({ turns: 2, modelCalls: 3, toolCalls: 1, toolErrors: 0 });
    expect(stats.totals.usage.input).toBe(answers.reduce((n, a) => n + a.usage.input, 0));
    expect(stats.tools).toEqual([
      { name: 'read_file', calls: 1, errors: 0, totalMs: expect.any(Number) },
    ]);
    expect(stats.turns.map((t) => [t.outcome, t.modelCalls, t.toolCalls])).toEqual([
      ['done', 2, 1],
      ['done', 1, 0],
    ]);
    // message → call → read_file → call; then the second message → call.
    const kinds = stats.graph.nodes.map((n) => n.kind);
    expect(kinds).toEqual([
      'input',
      'model_call',
      'tool_call',
      'model_call',
      'input',
      'model_call',
    ]);
    const [input, first, tool, second] = stats.graph.nodes;
    expect(stats.graph.edges).toEqual(
      expect.arrayContaining([
        { from: input!.id, to: first!.id, kind: 'prompted' },
        { from: first!.id, to: tool!.id, kind: 'called' },
        { from: tool!.id, to: second!.id, kind: 'fed' },
      ]),
    );
    expect(tool).toMatchObject({ name: 'read_file', status: 'ok', durationMs: expect.any(Number) });
    expect(first).toMatchObject({ finishReason: 'tool_calls', ttftMs: expect.any(Number) });

    expect(stats.log.entries).toBe(log.length);
    expect(stats.log.bytes).toBeGreaterThan(JSON.stringify(log).length / 2);
    // One segment per commit: each turn commits its message, answers and tool steps.
    expect(stats.checkpoints.commits).toBeGreaterThanOrEqual(5);
    expect(stats.checkpoints.commits).toBeLessThanOrEqual(log.length);
    expect(stats.checkpoints.snapshots).toBe(0);
  });

  it('answers an unknown session with 404 and a bad query with 400, each with a code', async () => {
    const { apiUrl } = handle.stack;
    const missing = await http('GET', `${apiUrl}/v1/sessions/ses_doesnotexist/stats`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('session_not_found');
    const id = await sessionWithTurns([]);
    for (const query of ['turns=0', 'turns=abc', 'turns=5000', 'other=1']) {
      const bad = await http('GET', `${apiUrl}/v1/sessions/${id}/stats?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.body.error.code, query).toBe('invalid_request');
    }
    const empty = await http('GET', `${apiUrl}/v1/sessions/${id}/stats`);
    expect(empty.body).toMatchObject({ totals: { turns: 0 }, log: { entries: 0, bytes: 0 } });
  });

  it('tern session stats prints the session readably, or as JSON', async () => {
    const id = await sessionWithTurns(['Please read README.md']);
    const printed = await tern(['session', 'stats', id]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain(`session ${id}`);
    expect(printed.stdout).toContain('1 turns · 2 model calls · 1 tool calls (0 failed)');
    expect(printed.stdout).toMatch(/read_file\s+1 calls\s+0 failed/);
    expect(printed.stdout).toMatch(/◆ #\d+ openai-compatible:tern-sim: ttft/);
    expect(printed.stdout).toMatch(/↳ read_file ok \d+ ms/);
    expect(printed.stdout).toMatch(/◆ #\d+ openai-compatible:tern-sim ← 1 tool result:/);

    const json = await tern(['session', 'stats', id, '--json']);
    expect(json.code).toBe(0);
    expect(sessionStatsSchema.parse(JSON.parse(json.stdout)).sessionId).toBe(id);
  });

  it('tern session stats says so for an unknown session and exits 1', async () => {
    const result = await tern(['session', 'stats', 'ses_doesnotexist']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/session ses_doesnotexist/);
    const usage = await tern(['session', 'stats']);
    expect(usage.code).toBe(2);
  });
});
