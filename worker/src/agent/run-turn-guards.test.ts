import { describe, expect, it } from 'vitest';
import type { AgentTool, SteeringMessage } from './agent-types.ts';
import type { ScriptedStep } from './scripted-model.ts';
import { recordingTool, turnHarness } from './turn-harness.ts';

/** `n` answers that each call `tool` with distinct arguments, then a final answer. */
const working = (n: number, usage?: ScriptedStep['usage']): ScriptedStep[] => [
  ...Array.from({ length: n }, (_, i) => ({
    calls: [{ id: `c${i}`, name: 'tool', args: { i } }],
    ...(usage ? { usage } : {}),
  })),
  { text: 'finished' },
];

describe('budgets', () => {
  it('stops when the turn’s input plus output tokens reach the budget', async () => {
    const { tool } = recordingTool('tool');
    const h = turnHarness(working(5, { input: 600, output: 100 }), [tool], {
      input: { maxTokens: 1_000, maxSteps: 50 },
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'length', code: 'max_tokens_budget', steps: 2 });
    expect(outcome.usage.input + outcome.usage.output).toBe(1_400);
    expect(h.log.at(-1)).toMatchObject({ kind: 'error', code: 'max_tokens_budget' });
    expect(h.finals).toEqual([h.log.length]);
  });

  it('stops when the turn’s cost reaches the budget', async () => {
    const { tool } = recordingTool('tool');
    const h = turnHarness(working(5, { costUsd: 0.02 }), [tool], {
      input: { maxCostUsd: 0.05, maxSteps: 50 },
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'length', code: 'max_cost', steps: 3 });
    expect(h.log.at(-1)).toMatchObject({ kind: 'error', code: 'max_cost' });
  });

  it('stops when the turn’s wall time by the loop’s clock runs out', async () => {
    let clock = 0;
    const slow: AgentTool = {
      spec: { name: 'tool', description: '', parameters: {} },
      idempotent: true,
      execute: async () => {
        clock += 400;
        return { ok: true, output: 'ok' };
      },
    };
    const h = turnHarness(working(5), [slow], {
      io: { now: () => clock },
      input: { maxWallTimeMs: 1_000, maxSteps: 50 },
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'length', code: 'wall_time', steps: 3 });
    expect(h.log.at(-1)).toMatchObject({ kind: 'error', code: 'wall_time' });
  });
});

describe('repeated identical tool calls', () => {
  const same = (id: string, args = { path: 'a', depth: 1 }) => ({
    calls: [{ id, name: 'tool', args }],
  });

  it('refuses the third identical call in a row, then stops the turn after two refusals', async () => {
    const { tool, calls } = recordingTool('tool');
    const h = turnHarness(
      [
        same('c1'),
        same('c2', { depth: 1, path: 'a' } as { path: string; depth: number }),
        same('c3'),
        same('c4'),
        { text: 'never' },
      ],
      [tool],
      { input: { maxSteps: 50 } },
    );
    const outcome = await h.run();
    // Key order does not make a call different.
    expect(calls).toHaveLength(2);
    const results = h.finished();
    expect(results.map((r) => r.notRun ?? 'ran')).toEqual(['ran', 'ran', 'repeat', 'repeat']);
    expect(results[2]!.output).toContain('same tool call with the same arguments');
    expect(outcome).toMatchObject({ reason: 'error', state: 'failed', code: 'loop_detected' });
    expect(h.log.at(-1)).toMatchObject({ kind: 'error', code: 'loop_detected' });
    expect(h.model.requests).toHaveLength(4);
  });

  it('lets the model recover after one refusal', async () => {
    const { tool, calls } = recordingTool('tool');
    const h = turnHarness(
      [same('c1'), same('c2'), same('c3'), same('c4', { path: 'b', depth: 1 }), { text: 'ok' }],
      [tool],
      { input: { maxSteps: 50 } },
    );
    const outcome = await h.run();
    expect(outcome.reason).toBe('stop');
    expect(calls).toHaveLength(3);
    const third = h.model.requests[3]!.messages.at(-1);
    expect(third).toMatchObject({ role: 'tool', toolCallId: 'c3', isError: true });
  });
});

describe('steering', () => {
  it('delivers messages sent during the turn at the next step boundary', async () => {
    const { tool } = recordingTool('tool');
    const queue: SteeringMessage[][] = [
      [],
      [{ text: 'use the other file', inputSeq: 2 }, 'and be quick'],
    ];
    let asked = 0;
    const h = turnHarness(working(2), [tool], {
      io: {
        takeSteering: async () => {
          asked += 1;
          return queue.shift() ?? [];
        },
      },
    });
    await h.run();
    // Not before the first call (the turn just started), not after the final answer.
    expect(asked).toBe(2);
    expect(h.kinds()).toEqual([
      'user_message',
      'assistant_message',
      'tool_started',
      'tool_finished',
      'assistant_message',
      'tool_started',
      'tool_finished',
      'user_message',
      'user_message',
      'assistant_message',
    ]);
    expect(h.log[7]).toMatchObject({ text: 'use the other file', inputSeq: 2, steer: true });
    // Without its own input sequence, a steering message is recorded under the turn's input.
    expect(h.log[8]).toMatchObject({ text: 'and be quick', inputSeq: 1, steer: true });
    expect(h.model.requests[2]!.messages.slice(-2)).toEqual([
      { role: 'user', content: 'use the other file' },
      { role: 'user', content: 'and be quick' },
    ]);
  });
});
