import { afterAll, describe, expect, it } from 'vitest';
import type { LoggedRequest } from './request-log.ts';
import { createSimServer, type SimServer } from './server.ts';

let sim: SimServer | undefined;
afterAll(() => sim?.close());

describe('GET /sim/requests', () => {
  it('lists every request with its route, arrival, end, status and fault, oldest first', async () => {
    sim = await createSimServer({ latency: { ttftMs: 0, itlMs: 0 } });
    const hello = { model: 'tern-sim', messages: [{ role: 'user', content: 'hello' }] };
    const post = (headers: Record<string, string>) =>
      fetch(`${sim!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(hello),
      }).then((r) => r.text());
    const before = Date.now();
    await post({});
    await post({ 'x-tern-sim-fault': 'rate_limit' });
    await fetch(`${sim.url}/health`).then((r) => r.text());
    const { requests } = (await (await fetch(`${sim.url}/sim/requests`)).json()) as {
      requests: LoggedRequest[];
    };
    const done = requests.filter((r) => r.route !== '/sim/requests');
    expect(done.map((r) => [r.route, r.status, r.fault])).toEqual([
      ['/v1/chat/completions', '200', undefined],
      ['/v1/chat/completions', '429', 'rate_limit'],
      ['/health', '200', undefined],
    ]);
    for (const r of done) {
      expect(r.at).toBeGreaterThanOrEqual(before);
      expect(r.endedAt).toBeGreaterThanOrEqual(r.at);
    }
    expect(done[1]!.at).toBeGreaterThanOrEqual(done[0]!.endedAt!);
  });
});
