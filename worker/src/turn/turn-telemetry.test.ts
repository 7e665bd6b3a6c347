import { Registry } from '@tern/shared/obs/metrics';
import { untraced } from '@tern/shared/obs/tracing';
import { createWorkerMetrics } from '@tern/shared/obs/worker-metrics';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { FencedError, type SessionMeta } from '@tern/shared/session/session-store';
import { describe, expect, it } from 'vitest';
import type { TurnIO } from '../agent/agent-types.ts';
import { TurnTelemetry } from './turn-telemetry.ts';

const meta = {
  id: 'ses_telemetry',
  model: 'openai:gpt-4.1-mini',
  doneInputSeq: 2,
  inputSeq: 3,
} as SessionMeta;
const turnId = 'ses_telemetry-t3';

const io = (overrides: Partial<TurnIO> = {}): TurnIO => ({
  stream: () => (async function* () {})(),
  tools: new Map(),
  now: () => performance.now(),
  commit: async () => [],
  emit: () => {},
  ...overrides,
});

const entry = (kind: string, turn = turnId, extra: Record<string, unknown> = {}) =>
  ({ seq: 1, turnId: turn, epoch: 1, at: 0, kind, ...extra }) as LogEntry;

async function telemetry() {
  const metrics = createWorkerMetrics(new Registry());
  const turn = await TurnTelemetry.start({ metrics, tracing: untraced }, meta, {
    inputSeq: 3,
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  });
  const count = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    return (metric?.values ?? [])
      .filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { turn, count };
}

describe("a worker's telemetry of one turn", () => {
  it("names the turn and the trace its input's job carried, for every log line", async () => {
    const { turn } = await telemetry();
    expect(turn.bindings).toEqual({
      sessionId: 'ses_telemetry',
      turnId,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
  });

  it('counts a takeover when the turn resumes from entries another lease holder left', async () => {
    const fresh = await telemetry();
    fresh.turn.instrument([entry('user_message', 'ses_telemetry-t2')], io());
    expect(await fresh.count('tern_lease_takeovers_total')).toBe(0);

    const resumed = await telemetry();
    resumed.turn.instrument([entry('user_message'), entry('assistant_message')], io());
    expect(await resumed.count('tern_lease_takeovers_total')).toBe(1);

    const approved = await telemetry();
    approved.turn.instrument([entry('user_message'), entry('approval_requested')], io());
    expect(await approved.count('tern_lease_takeovers_total')).toBe(0);
  });

  it('counts a commit refused for a lost lease as a fencing rejection, and passes it on', async () => {
    const { turn, count } = await telemetry();
    const instrumented = turn.instrument(
      [],
      io({
        commit: async () => {
          throw new FencedError('lease lost');
        },
      }),
    );
    await expect(instrumented.commit([], { final: false })).rejects.toThrow(FencedError);
    expect(await count('tern_fencing_rejections_total', { op: 'commit' })).toBe(1);
  });

  it("times every hook handler by point, and keeps the hook's answer", async () => {
    const { turn, count } = await telemetry();
    const instrumented = turn.instrument(
      [],
      io({
        hooks: [
          {
            name: 'audit',
            beforeTool: async () => ({ action: 'deny', reason: 'no' }),
            afterModel: () => undefined,
          },
        ],
      }),
    );
    const hook = instrumented.hooks?.[0];
    const context = {} as never;
    expect(await hook?.beforeTool?.(context)).toEqual({ action: 'deny', reason: 'no' });
    await hook?.afterModel?.(context);
    expect(await count('tern_hook_duration_seconds', { point: 'before_tool', le: '+Inf' })).toBe(1);
    expect(await count('tern_hook_duration_seconds', { point: 'after_model', le: '+Inf' })).toBe(1);
    expect(hook?.beforeModel).toBeUndefined();
  });

  it('keeps the active-turn gauge right however the turn ends', async () => {
    const { turn, count } = await telemetry();
    let during = -1;
    await turn.run(async () => {
      during = await count('tern_worker_active_turns');
    });
    expect(during).toBe(1);
    await expect(
      turn.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await count('tern_worker_active_turns')).toBe(0);
  });

  it('times the publishes that carry a step, counts every event, and counts fenced batches', async () => {
    const { turn, count } = await telemetry();
    const deltas = [{ type: 'text_delta' as const, turnId, text: 'hi' }];
    const step = [
      { type: 'entry' as const, entry: entry('user_message', turnId, { text: 'x', inputSeq: 3 }) },
    ];
    turn.publishing.published(deltas, performance.now(), 'ok');
    turn.publishing.published(step, performance.now(), 'ok');
    turn.publishing.published(step, performance.now(), 'fenced');
    expect(await count('tern_published_events_total')).toBe(2);
    expect(await count('tern_publish_duration_seconds', { le: '+Inf' })).toBe(2);
    expect(await count('tern_fencing_rejections_total', { op: 'publish' })).toBe(1);
  });
});
