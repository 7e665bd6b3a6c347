import { describe, expect, it } from 'vitest';
import { SUMMARY_PREFIX } from './history-to-messages.ts';
import type { ScriptedStep } from './scripted-model.ts';
import { recordingTool, turnHarness } from './turn-harness.ts';

const usage = { input: 10, output: 5, cached: 0, reasoning: 0, costUsd: 0 };
const overflow: ScriptedStep = {
  error: { kind: 'context_overflow', message: 'prompt is too long: 210000 tokens > 200000' },
};

function withEarlierTurn(steps: ScriptedStep[]) {
  const { tool } = recordingTool('tool');
  const h = turnHarness(steps, [tool], { input: { compactKeepSteps: 1 } });
  h.seedTurn(
    't0',
    { kind: 'user_message', text: 'old question', inputSeq: 0 },
    {
      kind: 'assistant_message',
      model: 'scripted:m',
      text: 'old answer',
      reasoning: '',
      toolCalls: [],
      finishReason: 'stop',
      usage,
    },
  );
  return h;
}

describe('compaction on context overflow', () => {
  it('summarises older steps through the model, commits the summary and retries once', async () => {
    const h = withEarlierTurn([
      { calls: [{ id: 'c1', name: 'tool', args: { x: 1 } }] },
      overflow,
      { text: 'SUMMARY of the old question', usage: { input: 50, output: 7 } },
      { text: 'final answer' },
    ]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'stop', steps: 2 });
    // The failed call reported no usage; the summary's counts toward the turn.
    expect(outcome.usage.input).toBe(10 + 50 + 10);

    const compaction = h.log.find((e) => e.kind === 'compaction');
    expect(compaction).toMatchObject({
      summary: 'SUMMARY of the old question',
      fromSeq: 1,
      toSeq: 2,
      usage: { input: 50, output: 7 },
    });

    const summarising = h.model.requests[2]!;
    expect(summarising.tools).toBeUndefined();
    expect(summarising.messages.at(-1)?.content).toContain('User: old question');
    expect(summarising.messages.at(-1)?.content).not.toContain('hello');

    const retried = h.model.requests[3]!.messages;
    expect(retried[0]).toEqual({ role: 'system', content: 'system' });
    expect(retried[1]).toEqual({
      role: 'user',
      content: `${SUMMARY_PREFIX}\n\nSUMMARY of the old question`,
    });
    expect(retried.slice(2).map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(retried[2]).toEqual({ role: 'user', content: 'hello' });
    expect(h.states()).toContain('awaiting_model>compacting');
  });

  it('ends the turn with the error when the retried call still overflows', async () => {
    const h = withEarlierTurn([overflow, { text: 'summary' }, overflow, { text: 'never' }]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'error', code: 'context_overflow' });
    expect(h.kinds().slice(-2)).toEqual(['compaction', 'error']);
    expect(h.model.requests).toHaveLength(3);
  });

  it('ends with the error when there is nothing older to summarise', async () => {
    const h = turnHarness([overflow, { text: 'never' }]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'error', code: 'context_overflow' });
    expect(h.log.at(-1)).toMatchObject({
      message: expect.stringContaining('there is nothing older to summarise'),
    });
    expect(h.model.requests).toHaveLength(1);
  });
});
