import { describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { contradictions } from '../helpers/log-consistency.ts';
import { followUpAndLog, startLongTurn } from '../helpers/long-turn.ts';
import { useStack } from '../helpers/use-stack.ts';

const env = useStack({ workers: 2 });

describe('Redis down longer than a lease, mid-turn', () => {
  it('pauses every process, which recover when it is back; the turn finishes once, nothing lost', async () => {
    const { stack, collector } = env;
    const { id, turnId } = await startLongTurn(stack, collector);
    await stack.redis.kill('SIGKILL');
    // Longer than the 3 s lease and job lock: both have lapsed when Redis comes back.
    await new Promise((r) => setTimeout(r, 5_000));
    await stack.redis.start();

    await collector.waitFor((all) => finishedTurns(all).includes(turnId), 60_000);
    const log = await followUpAndLog(stack, collector, id);
    expect(log.map((e) => e.kind)).toEqual([
      'user_message',
      'assistant_message',
      'user_message',
      'assistant_message',
    ]);
    expect(contradictions(id, collector.envelopes, log)).toEqual([]);
    expect(finishedTurns(collector.envelopes).filter((t) => t === turnId)).toHaveLength(1);
    for (const p of stack.processes) expect(p.child.exitCode, p.name).toBeNull();
  }, 120_000);
});
