import { describe, expect, it } from 'vitest';
import { PausedClients } from './paused-clients.ts';

describe('PausedClients', () => {
  it('pauses a subscription once, keeping the id of the last event its client was sent', () => {
    const paused = new PausedClients();
    const ticket = paused.pause('sock1', 'ses_a', '5-0');
    expect(ticket).toBeTypeOf('number');
    expect(paused.pause('sock1', 'ses_a', '9-0')).toBeUndefined();
    expect(paused.of('sock1')).toEqual([{ sessionId: 'ses_a', lastSentId: '5-0', ticket }]);
    expect(paused.size()).toBe(1);
  });

  it('lets a catch-up go on only while its own pause stands', () => {
    const paused = new PausedClients();
    const first = paused.pause('sock1', 'ses_a', '5-0')!;
    expect(paused.holds('sock1', 'ses_a', first)).toBe(true);
    // The client subscribed again (ending the pause) and was paused anew: the old catch-up stops.
    paused.end('sock1', 'ses_a');
    expect(paused.holds('sock1', 'ses_a', first)).toBe(false);
    const second = paused.pause('sock1', 'ses_a', '7-0')!;
    expect(second).not.toBe(first);
    expect(paused.holds('sock1', 'ses_a', first)).toBe(false);
    expect(paused.holds('sock1', 'ses_a', second)).toBe(true);
  });

  it('forgets every session of a socket that left, and only that socket', () => {
    const paused = new PausedClients();
    paused.pause('sock1', 'ses_a', '1-0');
    paused.pause('sock1', 'ses_b', '2-0');
    paused.pause('sock2', 'ses_a', '3-0');
    paused.end('sock1');
    expect(paused.has('sock1')).toBe(false);
    expect(paused.of('sock1')).toEqual([]);
    expect(paused.of('sock2').map((p) => p.lastSentId)).toEqual(['3-0']);
    paused.end('sock2', 'ses_a');
    expect(paused.has('sock2')).toBe(false);
    expect(paused.size()).toBe(0);
  });
});
