import { describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { leaseHolder, startLongTurn } from '../helpers/long-turn.ts';
import { useStack } from '../helpers/use-stack.ts';

const env = useStack({ workers: 2 });

describe('a worker killed mid-turn', () => {
  it('loses nothing: another worker takes the turn over and finishes it once', async () => {
    const { stack, collector } = env;
    const { id, turnId } = await startLongTurn(stack, collector, { itlMs: 20 });
    (await leaseHolder(stack, id)).child.kill('SIGKILL');

    await collector.waitFor((all) => finishedTurns(all).includes(turnId), 90_000);
    const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    const kinds = detail.body.entries.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(['user_message', 'assistant_message']);
    expect(detail.body.entries[1].text.split(' ').length).toBeGreaterThan(250);
    expect(detail.body.session).toMatchObject({ status: 'idle', inputs: 1 });
    // Watchers were told to drop the half-streamed answer of the dead worker.
    expect(
      collector.envelopes.some((e) => e.sessionId === id && e.event.type === 'stream_discarded'),
    ).toBe(true);
  }, 120_000);
});
