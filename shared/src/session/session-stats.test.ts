import { describe, expect, it } from 'vitest';
import type { LogEntry } from './log-entry.ts';
import { sessionStatsFromLog } from './session-stats.ts';

const usage = (input: number, costUsd = 0) => ({
  input,
  output: 10,
  cached: 0,
  reasoning: 0,
  costUsd,
});

/** A log built entry by entry, each stamped with its seq, turn and time. */
function log() {
  const entries: LogEntry[] = [];
  let at = 1_000_000;
  const add = (turnId: string, e: Record<string, unknown>, after = 10) => {
    at += after;
    entries.push({ seq: entries.length + 1, turnId, epoch: 1, at, ...e } as LogEntry);
    return entries.length;
  };
  return { entries, add };
}

const answer = (toolCalls: { id: string; name: string }[], input: number, durationMs = 400) => ({
  kind: 'assistant_message',
  model: 'openai:gpt-4.1-mini',
  text: '',
  reasoning: '',
  toolCalls: toolCalls.map((c) => ({ ...c, args: {} })),
  finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
  usage: usage(input, input / 1000),
  ttftMs: 100,
  durationMs,
});

describe('session stats from the log', () => {
  it('hangs the tool calls of a response off it and feeds their results to the next call', () => {
    const { entries, add } = log();
    add('t1', { kind: 'user_message', text: 'go', inputSeq: 1 });
    add(
      't1',
      answer(
        [
          { id: 'a', name: 'read_file' },
          { id: 'b', name: 'grep' },
        ],
        100,
      ),
    );
    add('t1', { kind: 'tool_started', callId: 'a', name: 'read_file', args: {} });
    add('t1', { kind: 'tool_started', callId: 'b', name: 'grep', args: {} });
    add('t1', {
      kind: 'tool_finished',
      callId: 'a',
      name: 'read_file',
      ok: true,
      output: '',
      durationMs: 5,
    });
    add('t1', {
      kind: 'tool_finished',
      callId: 'b',
      name: 'grep',
      ok: false,
      output: 'no',
      durationMs: 7,
    });
    add('t1', answer([], 300));

    const stats = sessionStatsFromLog(entries, 50);
    expect(stats.graph.nodes.map((n) => n.id)).toEqual(['in:1', 'm:2', 't:2.0', 't:2.1', 'm:7']);
    expect(stats.graph.edges).toEqual([
      { from: 'in:1', to: 'm:2', kind: 'prompted' },
      { from: 'm:2', to: 't:2.0', kind: 'called' },
      { from: 'm:2', to: 't:2.1', kind: 'called' },
      { from: 't:2.0', to: 'm:7', kind: 'fed' },
      { from: 't:2.1', to: 'm:7', kind: 'fed' },
    ]);
    const read = stats.graph.nodes.find((n) => n.id === 't:2.0');
    expect(read).toMatchObject({
      kind: 'tool_call',
      name: 'read_file',
      callId: 'a',
      status: 'ok',
      durationMs: 5,
      startedAt: entries[2]!.at,
    });
    expect(stats.graph.nodes.find((n) => n.id === 't:2.1')).toMatchObject({ status: 'error' });
    const first = stats.graph.nodes.find((n) => n.id === 'm:2');
    expect(first).toMatchObject({ startedAt: entries[1]!.at - 400, durationMs: 400, ttftMs: 100 });

    expect(stats.totals).toEqual({
      turns: 1,
      modelCalls: 2,
      toolCalls: 2,
      toolErrors: 1,
      usage: { input: 400, output: 20, cached: 0, reasoning: 0, costUsd: 0.4 },
    });
    expect(stats.tools).toEqual([
      { name: 'grep', calls: 1, errors: 1, totalMs: 7 },
      { name: 'read_file', calls: 1, errors: 0, totalMs: 5 },
    ]);
    expect(stats.turns).toEqual([
      {
        turnId: 't1',
        // The first call started before the message's commit landed.
        startedAt: entries[1]!.at - 400,
        endedAt: entries.at(-1)!.at,
        outcome: 'done',
        modelCalls: 2,
        toolCalls: 2,
        usage: { input: 400, output: 20, cached: 0, reasoning: 0, costUsd: 0.4 },
      },
    ]);
  });

  it('links steering to the call it reached, and a call after a compaction to the one before', () => {
    const { entries, add } = log();
    add('t1', { kind: 'user_message', text: 'go', inputSeq: 1 });
    add('t1', answer([{ id: 'a', name: 'bash' }], 10));
    add('t1', {
      kind: 'tool_finished',
      callId: 'a',
      name: 'bash',
      ok: true,
      output: '',
      durationMs: 1,
    });
    add('t1', { kind: 'user_message', text: 'also this', inputSeq: 2, steer: true });
    add('t1', answer([], 10));
    add('t2', { kind: 'user_message', text: 'next', inputSeq: 3 });
    add('t2', answer([], 10));
    add('t2', { kind: 'compaction', summary: 's', fromSeq: 1, toSeq: 5, usage: usage(50, 0.05) });
    add('t2', answer([], 10));
    const stats = sessionStatsFromLog(entries, 50);
    expect(stats.graph.edges.filter((e) => e.to === 'm:5')).toEqual([
      { from: 't:2.0', to: 'm:5', kind: 'fed' },
      { from: 'in:4', to: 'm:5', kind: 'prompted' },
    ]);
    expect(stats.graph.nodes.find((n) => n.id === 'in:4')).toMatchObject({ steer: true });
    expect(stats.graph.edges.filter((e) => e.to === 'm:9')).toEqual([
      { from: 'm:7', to: 'm:9', kind: 'continued' },
    ]);
    // The first call of a turn follows its message, not the previous turn's last call.
    expect(stats.graph.edges.filter((e) => e.to === 'm:7')).toEqual([
      { from: 'in:6', to: 'm:7', kind: 'prompted' },
    ]);
    expect(stats.totals.usage.input).toBe(90);
    expect(stats.totals.usage.costUsd).toBeCloseTo(0.09);
  });

  it("tells each turn's outcome from its last entry", () => {
    const { entries, add } = log();
    add('done', { kind: 'user_message', text: 'a', inputSeq: 1 });
    add('done', answer([], 1));
    add('failed', { kind: 'user_message', text: 'b', inputSeq: 2 });
    add('failed', { kind: 'error', code: 'rate_limited', message: 'slow down' });
    add('cancelled', { kind: 'user_message', text: 'c', inputSeq: 3 });
    add('cancelled', { kind: 'interrupted', reason: 'cancelled' });
    add('waiting', { kind: 'user_message', text: 'd', inputSeq: 4 });
    add('waiting', answer([{ id: 'x', name: 'bash' }], 1));
    add('waiting', {
      kind: 'approval_requested',
      callId: 'x',
      tool: 'bash',
      args: {},
      reason: 'ask',
    });
    add('cut', { kind: 'user_message', text: 'e', inputSeq: 5 });
    add('cut', answer([{ id: 'y', name: 'read_file' }], 1));
    add('cut', { kind: 'tool_started', callId: 'y', name: 'read_file', args: {} });
    const stats = sessionStatsFromLog(entries, 50);
    expect(stats.turns.map((t) => [t.turnId, t.outcome, t.code])).toEqual([
      ['done', 'done', undefined],
      ['failed', 'error', 'rate_limited'],
      ['cancelled', 'cancelled', undefined],
      ['waiting', 'awaiting_approval', undefined],
      ['cut', 'running', undefined],
    ]);
    expect(stats.graph.nodes.find((n) => n.id === 't:8.0')).toMatchObject({ status: 'pending' });
  });

  it('details only the last turns asked for, while the totals cover the whole log', () => {
    const { entries, add } = log();
    for (let t = 1; t <= 5; t++) {
      add(`t${t}`, { kind: 'user_message', text: 'x', inputSeq: t });
      add(`t${t}`, answer([], 10));
    }
    const stats = sessionStatsFromLog(entries, 2);
    expect(stats.turns.map((t) => t.turnId)).toEqual(['t4', 't5']);
    expect(new Set(stats.graph.nodes.map((n) => n.turnId))).toEqual(new Set(['t4', 't5']));
    expect(stats.graph.edges).toHaveLength(2);
    expect(stats.totals).toMatchObject({ turns: 5, modelCalls: 5 });
  });

  it('reads an empty log as no work at all', () => {
    expect(sessionStatsFromLog([], 50)).toEqual({
      totals: {
        turns: 0,
        modelCalls: 0,
        toolCalls: 0,
        toolErrors: 0,
        usage: { input: 0, output: 0, cached: 0, reasoning: 0, costUsd: 0 },
      },
      tools: [],
      turns: [],
      graph: { nodes: [], edges: [] },
    });
  });
});
