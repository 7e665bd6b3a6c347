import { describe, expect, it } from 'vitest';
import type { Hook } from './hook-types.ts';
import { mergeHooks, patchArgs } from './run-hooks.ts';
import { deferred, recordingTool, turnHarness } from './turn-harness.ts';

const oneCall = (args: Record<string, unknown> = { path: 'a' }) => [
  { calls: [{ id: 'c1', name: 'read', args }] },
  { text: 'done' },
];

function withHooks(hooks: Hook[], args?: Record<string, unknown>) {
  const read = recordingTool('read');
  const h = turnHarness(oneCall(args), [read.tool], { io: { hooks } });
  return { h, calls: read.calls };
}

describe('tool hooks', () => {
  it('gives a call denied by a hook a result the model reads, and does not run it', async () => {
    const { h, calls } = withHooks([
      { name: 'guard', beforeTool: () => ({ action: 'deny', reason: 'no reading today' }) },
    ]);
    const outcome = await h.run();
    expect(outcome.reason).toBe('stop');
    expect(calls).toEqual([]);
    expect(h.kinds()).not.toContain('tool_started');
    expect(h.finished()[0]).toMatchObject({
      ok: false,
      notRun: 'hook',
      output: 'Not run: denied by hook guard: no reading today',
    });
    const second = h.model.requests[1]!.messages.at(-1);
    expect(second).toMatchObject({ role: 'tool', content: expect.stringContaining('guard') });
  });

  it('runs the call with the arguments a hook patched, and logs those', async () => {
    const { h, calls } = withHooks(
      [
        { name: 'jail', beforeTool: () => ({ action: 'modify', args: { path: '/ws/a', x: 1 } }) },
        { name: 'second', beforeTool: () => ({ action: 'modify', args: { path: '/tmp/a' } }) },
      ],
      { path: 'a', drop: true },
    );
    await h.run();
    // The earlier hook wins a conflict; keys only one hook touches are kept.
    expect(calls).toEqual([{ path: '/ws/a', x: 1, drop: true }]);
    const started = h.log.find((e) => e.kind === 'tool_started');
    expect(started).toMatchObject({ args: { path: '/ws/a', x: 1, drop: true } });
  });

  it('appends context from hooks before and after a tool to its result', async () => {
    const { h } = withHooks([
      { name: 'pre', beforeTool: () => ({ action: 'add_context', text: 'files are UTF-8' }) },
      { name: 'post', afterTool: () => ({ action: 'add_context', text: 'result checked' }) },
    ]);
    await h.run();
    expect(h.finished()[0]!.output).toBe(
      'read ran with {"path":"a"}\n\n[pre] files are UTF-8\n\n[post] result checked',
    );
  });

  it('lets an after-tool hook replace or withhold a result', async () => {
    const { h } = withHooks([
      {
        name: 'redact',
        afterTool: ({ result }) => ({ action: 'modify', result: { ...result, output: 'xxx' } }),
      },
    ]);
    await h.run();
    expect(h.finished()[0]).toMatchObject({ ok: true, output: 'xxx' });

    const denied = withHooks([
      { name: 'dlp', afterTool: () => ({ action: 'deny', reason: 'secrets' }) },
    ]);
    await denied.h.run();
    expect(denied.h.finished()[0]).toMatchObject({
      ok: false,
      output: 'Result withheld by hook dlp: secrets',
    });
  });

  it('gives hooks read-only context: session, turn, step, call and arguments', async () => {
    const seen: unknown[] = [];
    const { h } = withHooks([
      {
        name: 'spy',
        beforeTool: (context) => {
          seen.push({ ...context, signal: undefined });
          expect(() => {
            (context.args as Record<string, unknown>).path = 'evil';
          }).toThrow();
          return undefined;
        },
      },
    ]);
    await h.run();
    expect(seen).toEqual([
      {
        sessionId: 's1',
        turnId: 't1',
        step: 1,
        call: { id: 'c1', name: 'read' },
        args: { path: 'a' },
        signal: undefined,
      },
    ]);
  });
});

describe('hook scheduling and time budgets', () => {
  it('runs independent hooks of one point concurrently', async () => {
    const order: string[] = [];
    const bStarted = deferred();
    const { h } = withHooks([
      {
        name: 'a',
        beforeTool: async () => {
          order.push('start a');
          // Would overrun its budget if b only started after a finished.
          await bStarted.promise;
          order.push('end a');
          return undefined;
        },
      },
      {
        name: 'b',
        beforeTool: async () => {
          order.push('start b');
          bStarted.resolve();
          order.push('end b');
          return undefined;
        },
      },
    ]);
    await h.run();
    expect(order.slice(0, 2)).toEqual(['start a', 'start b']);
    expect(h.events.some((e) => e.type === 'hook_warning')).toBe(false);
  });

  it('skips a hook that overruns its budget with a warning, by default', async () => {
    let sawAbort = false;
    const { h, calls } = withHooks([
      {
        name: 'slow',
        timeoutMs: 20,
        beforeTool: ({ signal }) =>
          new Promise(() => {
            signal.addEventListener('abort', () => {
              sawAbort = true;
            });
          }),
      },
    ]);
    await h.run();
    expect(calls).toHaveLength(1);
    expect(sawAbort).toBe(true);
    expect(h.events.find((e) => e.type === 'hook_warning')).toMatchObject({
      hook: 'slow',
      point: 'before_tool',
      callId: 'c1',
      problem: 'timeout',
      action: 'skipped',
    });
  });

  it('counts an overrunning hook as a denial when its policy says deny', async () => {
    const { h, calls } = withHooks([
      { name: 'slow', timeoutMs: 20, onTimeout: 'deny', beforeTool: () => new Promise(() => {}) },
    ]);
    await h.run();
    expect(calls).toEqual([]);
    expect(h.finished()[0]!.output).toBe(
      'Not run: denied by hook slow: the hook took longer than 20 ms',
    );
    expect(h.events.find((e) => e.type === 'hook_warning')).toMatchObject({ action: 'denied' });
  });

  it('treats a throwing hook like an overrun one', async () => {
    const { h, calls } = withHooks([
      {
        name: 'buggy',
        beforeTool: () => {
          throw new Error('null pointer');
        },
      },
    ]);
    await h.run();
    expect(calls).toHaveLength(1);
    expect(h.events.find((e) => e.type === 'hook_warning')).toMatchObject({
      problem: 'error',
      action: 'skipped',
      message: 'hook buggy failed: null pointer',
    });
  });
});

describe('model hooks', () => {
  it('adds system text and settings to the model request', async () => {
    const h = turnHarness([{ text: 'ok' }], [], {
      io: {
        hooks: [
          { name: 'rules', beforeModel: () => ({ action: 'add_context', text: 'be brief' }) },
          {
            name: 'tune',
            beforeModel: () => ({
              action: 'modify',
              request: { temperature: 0, system: 'no emoji' },
            }),
          },
        ],
      },
    });
    await h.run();
    const request = h.model.requests[0]!;
    expect(request.temperature).toBe(0);
    expect(request.messages[0]).toEqual({
      role: 'system',
      content: 'system\n\n[tune] no emoji\n\n[rules] be brief',
    });
  });

  it('ends the turn with an error entry when a hook denies the model call', async () => {
    const h = turnHarness([{ text: 'never' }], [], {
      io: {
        hooks: [{ name: 'quota', beforeModel: () => ({ action: 'deny', reason: 'over quota' }) }],
      },
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'error', state: 'failed', code: 'hook_denied' });
    expect(h.model.requests).toHaveLength(0);
    expect(h.log.at(-1)).toMatchObject({
      kind: 'error',
      code: 'hook_denied',
      message: 'the model call was denied by hook quota: over quota',
    });
  });

  it('discards an answer a hook denies, telling watchers to drop its deltas', async () => {
    const h = turnHarness([{ text: 'leaked secret' }], [], {
      io: { hooks: [{ name: 'dlp', afterModel: () => ({ action: 'deny', reason: 'secret' }) }] },
    });
    const outcome = await h.run();
    expect(outcome.reason).toBe('error');
    expect(h.kinds()).toEqual(['user_message', 'error']);
    expect(h.events.some((e) => e.type === 'stream_discarded')).toBe(true);
  });
});

describe('hook sets', () => {
  it('puts deployment hooks before session hooks and refuses a name used twice', () => {
    const a: Hook = { name: 'a' };
    const b: Hook = { name: 'b' };
    expect(mergeHooks([a], [b]).map((x) => x.name)).toEqual(['a', 'b']);
    expect(() => mergeHooks([a], [{ name: 'a' }])).toThrow(/two hooks are named a/);
  });

  it('removes a key a patch sets to undefined', () => {
    const outcomes = [
      { hook: 'x', decision: { action: 'modify' as const, args: { b: undefined } } },
    ];
    expect(patchArgs({ a: 1, b: 2 }, outcomes)).toEqual({ a: 1 });
  });
});
