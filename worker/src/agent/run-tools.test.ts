import { describe, expect, it } from 'vitest';
import type { AgentTool, ToolConcurrency } from './agent-types.ts';
import { type PlannedCall, runTools } from './run-tools.ts';

/** Tools that log when they start and end, to check what overlapped. */
function tracker() {
  const log: string[] = [];
  const tool = (name: string, concurrency: ToolConcurrency, ms = 5): AgentTool => ({
    spec: { name, description: '', parameters: {} },
    idempotent: true,
    concurrency,
    execute: async (args) => {
      log.push(`start ${args.n}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${args.n}`);
      return { ok: true, output: `done ${args.n}` };
    },
  });
  return { log, tool };
}

const calls = (...names: string[]): PlannedCall[] =>
  names.map((name, i) => ({ id: `c${i}`, name, args: { n: i } }));

const context = () => ({
  signal: new AbortController().signal,
  sessionId: 's',
  now: () => performance.now(),
});

describe('runTools scheduling', () => {
  it('starts parallel tools together', async () => {
    const t = tracker();
    const tools = new Map([['p', t.tool('p', 'parallel')]]);
    await runTools(calls('p', 'p', 'p'), tools, context());
    expect(t.log.slice(0, 3)).toEqual(['start 0', 'start 1', 'start 2']);
  });

  it('runs sequential tools one after another, beside parallel ones', async () => {
    const t = tracker();
    const tools = new Map([
      ['s', t.tool('s', 'sequential', 10)],
      ['p', t.tool('p', 'parallel', 30)],
    ]);
    const results = await runTools(calls('s', 'p', 's'), tools, context());
    expect(t.log.indexOf('end 0')).toBeLessThan(t.log.indexOf('start 2'));
    expect(t.log.indexOf('start 1')).toBeLessThan(t.log.indexOf('end 0'));
    expect(results.map((r) => r.call.id)).toEqual(['c0', 'c1', 'c2']);
  });

  it('runs an exclusive tool alone, after what came before it', async () => {
    const t = tracker();
    const tools = new Map([
      ['p', t.tool('p', 'parallel')],
      ['x', t.tool('x', 'exclusive')],
    ]);
    await runTools(calls('p', 'p', 'x', 'p'), tools, context());
    expect(t.log).toEqual([
      'start 0',
      'start 1',
      'end 0',
      'end 1',
      'start 2',
      'end 2',
      'start 3',
      'end 3',
    ]);
  });

  it('stops a tool at its time budget with a result the model can read', async () => {
    let sawAbort = false;
    const stuck: AgentTool = {
      spec: { name: 'stuck', description: '', parameters: {} },
      idempotent: true,
      timeoutMs: 20,
      execute: (_args, { signal }) =>
        new Promise(() => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
          });
        }),
    };
    const [result] = await runTools(calls('stuck'), new Map([['stuck', stuck]]), context());
    expect(result?.result).toEqual({
      ok: false,
      output: 'stuck timed out after 20 ms and was stopped',
    });
    expect(sawAbort).toBe(true);
  });

  it('cuts output past the tool’s cap and says how much was dropped', async () => {
    const loud: AgentTool = {
      spec: { name: 'loud', description: '', parameters: {} },
      idempotent: true,
      outputCapBytes: 10,
      execute: async () => ({ ok: true, output: 'x'.repeat(25) }),
    };
    const [result] = await runTools(calls('loud'), new Map([['loud', loud]]), context());
    expect(result?.result.output).toBe('xxxxxxxxxx\n[output cut: 15 of 25 bytes dropped]');
  });

  it('reports cancelled tools when the turn is cancelled', async () => {
    const controller = new AbortController();
    const slow: AgentTool = {
      spec: { name: 'slow', description: '', parameters: {} },
      idempotent: true,
      execute: () => new Promise(() => controller.abort()),
    };
    const [result] = await runTools(calls('slow'), new Map([['slow', slow]]), {
      ...context(),
      signal: controller.signal,
    });
    expect(result?.result).toEqual({ ok: false, output: 'slow was cancelled', interrupted: true });
  });
});
