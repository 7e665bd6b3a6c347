import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../protocol/events.ts';
import type { LogEntry } from '../session/log-entry.ts';
import { TurnEventMetrics } from './event-metrics.ts';
import { Registry } from './metrics.ts';
import { createWorkerMetrics } from './worker-metrics.ts';

const turnId = 'ses_x-t1';
const usage = { input: 100, output: 20, cached: 60, reasoning: 5, costUsd: 0.25 };
let seq = 0;
const stamp = { turnId, epoch: 1, at: 0 };

const entry = (e: Record<string, unknown>): SessionEvent =>
  ({ type: 'entry', entry: { ...stamp, seq: ++seq, ...e } as LogEntry }) as SessionEvent;
const answer = (extra: Record<string, unknown> = {}) =>
  entry({
    kind: 'assistant_message',
    model: 'anthropic:claude-sonnet-4-5',
    text: '',
    reasoning: '',
    toolCalls: [],
    finishReason: 'stop',
    usage,
    ttftMs: 250,
    durationMs: 1500,
    ...extra,
  });
const state = (to: string): SessionEvent => ({ type: 'turn_state', turnId, from: 'x', to });

/** A fresh registry, a clock the test moves, and the observer of one turn. */
function setup(modelRef = 'anthropic:claude-sonnet-4-5') {
  seq = 0;
  const metrics = createWorkerMetrics(new Registry());
  let now = 1000;
  const observer = new TurnEventMetrics(metrics, modelRef, () => now);
  const advance = (ms: number) => {
    now += ms;
  };
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    const matching = (metric?.values ?? []).filter((v) =>
      Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
    );
    return matching.reduce((sum, v) => sum + v.value, 0);
  };
  return { metrics, observer, advance, value };
}

describe('metrics derived from the events a turn publishes', () => {
  it('counts a committed answer as a model call with its TTFT, duration, tokens and cost', async () => {
    const { observer, value } = setup();
    observer.observe(answer({ finishReason: 'tool_calls' }));
    const labels = { provider: 'anthropic', model: 'claude-sonnet-4-5' };
    expect(await value('tern_model_calls_total', { ...labels, outcome: 'ok' })).toBe(1);
    expect(await value('tern_model_ttft_seconds', { ...labels, le: '0.25' })).toBe(1);
    expect(await value('tern_model_ttft_seconds', { ...labels, le: '0.1' })).toBe(0);
    expect(await value('tern_model_call_duration_seconds', { ...labels, le: '2' })).toBe(1);
    expect(await value('tern_model_call_duration_seconds', { ...labels, le: '1' })).toBe(0);
    expect(await value('tern_model_tokens_total', { ...labels, type: 'input' })).toBe(100);
    expect(await value('tern_model_tokens_total', { ...labels, type: 'output' })).toBe(20);
    expect(await value('tern_model_tokens_total', { ...labels, type: 'cached' })).toBe(60);
    expect(await value('tern_model_tokens_total', { ...labels, type: 'reasoning' })).toBe(5);
    expect(await value('tern_model_cost_usd_total', labels)).toBe(0.25);
  });

  it('labels an answer cut by its token limit as length, not ok', async () => {
    const { observer, value } = setup();
    observer.observe(answer({ finishReason: 'length' }));
    expect(await value('tern_model_calls_total', { outcome: 'length' })).toBe(1);
    expect(await value('tern_model_calls_total', { outcome: 'ok' })).toBe(0);
  });

  it('counts an error entry of the LLM taxonomy as a failed call, and a loop guard as none', async () => {
    const { observer, value } = setup('openai:gpt-4.1-mini');
    observer.observe({
      type: 'model_retry',
      turnId,
      attempt: 1,
      delayMs: 1000,
      code: 'rate_limited',
      message: 'slow down',
    });
    observer.observe(entry({ kind: 'error', code: 'rate_limited', message: 'slow down' }));
    observer.observe(entry({ kind: 'error', code: 'max_steps', message: 'too many' }));
    const labels = { provider: 'openai', model: 'gpt-4.1-mini' };
    expect(await value('tern_model_calls_total', { ...labels, outcome: 'error' })).toBe(1);
    expect(
      await value('tern_model_errors_total', { provider: 'openai', kind: 'rate_limited' }),
    ).toBe(1);
    expect(
      await value('tern_model_retries_total', { provider: 'openai', kind: 'rate_limited' }),
    ).toBe(1);
    expect(await value('tern_model_calls_total')).toBe(1);
  });

  it('counts a cancel while the model streams as an aborted call, and one between steps as none', async () => {
    const { observer, value } = setup();
    observer.observe(state('running_tools'));
    observer.observe(entry({ kind: 'interrupted', reason: 'cancelled between steps' }));
    expect(await value('tern_model_calls_total')).toBe(0);
    observer.observe(state('awaiting_model'));
    observer.observe(state('streaming'));
    observer.observe(entry({ kind: 'interrupted', reason: 'cancelled' }));
    expect(await value('tern_model_calls_total', { outcome: 'aborted' })).toBe(1);
  });

  it('counts tool results by outcome and times only the tools that ran', async () => {
    const { observer, value } = setup();
    const finished = (extra: Record<string, unknown>) =>
      entry({ kind: 'tool_finished', callId: `c${seq}`, output: '', durationMs: 30, ...extra });
    observer.observe(finished({ name: 'read_file', ok: true }));
    observer.observe(finished({ name: 'bash', ok: false, durationMs: 4000 }));
    observer.observe(finished({ name: 'bash', ok: false, notRun: 'approval', durationMs: 0 }));
    expect(await value('tern_tool_calls_total', { tool: 'read_file', outcome: 'ok' })).toBe(1);
    expect(await value('tern_tool_calls_total', { tool: 'bash', outcome: 'error' })).toBe(1);
    expect(await value('tern_tool_calls_total', { tool: 'bash', outcome: 'approval' })).toBe(1);
    expect(await value('tern_tool_duration_seconds', { tool: 'bash', le: '+Inf' })).toBe(1);
    expect(await value('tern_tool_duration_seconds', { tool: 'bash', le: '1' })).toBe(0);
    expect(await value('tern_tool_duration_seconds', { tool: 'read_file', le: '0.05' })).toBe(1);
  });

  it('measures the turn from its start to its end, with its steps and the log length', async () => {
    const { observer, advance, value } = setup();
    observer.observe({ type: 'turn_started', turnId, inputSeq: 1 });
    observer.observe(answer());
    observer.observe(answer());
    advance(7_000);
    observer.observe({ type: 'turn_finished', turnId, reason: 'stop', usage, steps: 2 });
    // A repeated end (never expected) is not counted twice.
    observer.observe({ type: 'turn_finished', turnId, reason: 'stop', usage, steps: 2 });
    expect(await value('tern_turns_total', { outcome: 'stop' })).toBe(1);
    expect(await value('tern_turn_duration_seconds', { outcome: 'stop', le: '5' })).toBe(0);
    expect(await value('tern_turn_duration_seconds', { outcome: 'stop', le: '10' })).toBe(1);
    expect(await value('tern_turn_steps', { outcome: 'stop', le: '2' })).toBe(1);
    expect(await value('tern_turn_steps', { outcome: 'stop', le: '1' })).toBe(0);
    expect(await value('tern_session_log_entries', { le: '10' })).toBe(1);
  });

  it('ends a turn paused for approval under its own outcome', async () => {
    const { observer, value } = setup();
    observer.observe({ type: 'turn_started', turnId, inputSeq: 1 });
    observer.observe({
      type: 'turn_paused',
      turnId,
      reason: 'awaiting_approval',
      pending: ['c1'],
      usage,
      steps: 1,
    });
    expect(await value('tern_turns_total', { outcome: 'awaiting_approval' })).toBe(1);
  });

  it('adds a compaction call to tokens and cost without counting a step', async () => {
    const { observer, value } = setup();
    observer.observe(entry({ kind: 'compaction', summary: 's', fromSeq: 1, toSeq: 4, usage }));
    expect(await value('tern_model_cost_usd_total')).toBe(0.25);
    expect(await value('tern_model_calls_total')).toBe(0);
  });

  it('counts hook problems by point and problem', async () => {
    const { observer, value } = setup();
    observer.observe({
      type: 'hook_warning',
      turnId,
      hook: 'audit',
      point: 'before_tool',
      problem: 'timeout',
      action: 'skipped',
      message: 'slow',
    });
    expect(
      await value('tern_hook_problems_total', { point: 'before_tool', problem: 'timeout' }),
    ).toBe(1);
  });

  it('never lets user-chosen model or tool names grow a label without bound', async () => {
    const { observer, metrics } = setup();
    for (let i = 0; i < 80; i++) {
      observer.observe(answer({ model: `openai:model-${i}` }));
      observer.observe(
        entry({
          kind: 'tool_finished',
          callId: `c${i}`,
          name: `tool_${i}`,
          ok: true,
          output: '',
          durationMs: 1,
        }),
      );
    }
    observer.observe(
      entry({
        kind: 'tool_finished',
        callId: 'r',
        name: 'read_file',
        ok: true,
        output: '',
        durationMs: 1,
      }),
    );
    const json = await metrics.registry.getMetricsAsJSON();
    const labelValues = (name: string, label: string) =>
      new Set(json.find((m) => m.name === name)?.values.map((v) => String(v.labels[label])));
    const models = labelValues('tern_model_calls_total', 'model');
    expect(models.size).toBeLessThanOrEqual(51);
    expect(models.size).toBeGreaterThan(40);
    expect(models.has('other')).toBe(true);
    const tools = labelValues('tern_tool_calls_total', 'tool');
    expect(tools.size).toBe(52);
    expect(tools.has('read_file')).toBe(true);
  });
});
