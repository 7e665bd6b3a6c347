import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CachedProbe,
  type CheckResult,
  failureReason,
  flagCheck,
  readiness,
  readinessStatus,
} from './readiness.ts';

/** A probe whose answers the test decides, counting how often it was asked. */
function scriptedProbe() {
  const calls: AbortSignal[] = [];
  let answer: () => Promise<void> = async () => {};
  return {
    calls,
    answer(next: () => Promise<void>) {
      answer = next;
    },
    probe: (signal: AbortSignal) => {
      calls.push(signal);
      return answer();
    },
  };
}

const s3Error = (name: string, status: number) =>
  Object.assign(new Error(`${name} at http://10.0.0.5:9000/bucket/key`), {
    name,
    $metadata: { httpStatusCode: status },
  });

afterEach(() => {
  vi.useRealTimers();
});

describe('a cached readiness probe', () => {
  it('asks the dependency at most once per interval however often readiness is asked', async () => {
    let now = 0;
    const script = scriptedProbe();
    const probe = new CachedProbe(script.probe, {
      intervalMs: 3000,
      timeoutMs: 1000,
      now: () => now,
    });
    for (let i = 0; i < 5; i++) expect(await probe.check()).toEqual({ status: 'up' });
    expect(script.calls).toHaveLength(1);
    now = 2999;
    await probe.check();
    expect(script.calls).toHaveLength(1);
    now = 3000;
    await probe.check();
    expect(script.calls).toHaveLength(2);
  });

  it('shares one running probe between concurrent askers', async () => {
    const script = scriptedProbe();
    let release = () => {};
    script.answer(() => new Promise<void>((resolve) => (release = resolve)));
    const probe = new CachedProbe(script.probe, { intervalMs: 0, timeoutMs: 10_000 });
    const asked = [probe.check(), probe.check(), probe.check()];
    release();
    expect(await Promise.all(asked)).toEqual([
      { status: 'up' },
      { status: 'up' },
      { status: 'up' },
    ]);
    expect(script.calls).toHaveLength(1);
  });

  it('reports a failing dependency as down with a short reason, then up once it recovers', async () => {
    let now = 0;
    const script = scriptedProbe();
    const changes: CheckResult[] = [];
    const probe = new CachedProbe(script.probe, {
      intervalMs: 1000,
      timeoutMs: 1000,
      now: () => now,
      onChange: (result) => changes.push(result),
    });
    script.answer(() => Promise.reject(s3Error('NoSuchBucket', 404)));
    expect(await probe.check()).toEqual({
      status: 'down',
      code: 'unavailable',
      message: 'NoSuchBucket (status 404)',
    });
    now = 1000;
    expect((await probe.check()).status).toBe('down');
    script.answer(async () => {});
    now = 2000;
    expect(await probe.check()).toEqual({ status: 'up' });
    // One change per transition, not one per probe.
    expect(changes.map((c) => c.status)).toEqual(['down', 'up']);
  });

  it('gives up on a probe that hangs at its timeout, aborting it, and counts it as down', async () => {
    vi.useFakeTimers();
    let now = 0;
    const script = scriptedProbe();
    script.answer(() => new Promise<void>(() => {}));
    const probe = new CachedProbe(script.probe, {
      intervalMs: 500,
      timeoutMs: 2000,
      now: () => now,
    });
    const asked = probe.check();
    await vi.advanceTimersByTimeAsync(2000);
    expect(await asked).toEqual({
      status: 'down',
      code: 'timeout',
      message: 'no answer within 2000 ms',
    });
    expect(script.calls[0]?.aborted).toBe(true);
    // The hung attempt does not block the next one.
    script.answer(async () => {});
    now = 500;
    expect(await probe.check()).toEqual({ status: 'up' });
    expect(script.calls).toHaveLength(2);
  });

  it('treats a probe that throws before returning a promise as down', async () => {
    const probe = new CachedProbe(
      () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
          code: 'ECONNREFUSED',
        });
      },
      { intervalMs: 0, timeoutMs: 1000 },
    );
    expect(await probe.check()).toEqual({
      status: 'down',
      code: 'unavailable',
      message: 'ECONNREFUSED',
    });
  });
});

describe('a readiness report', () => {
  it('is ready, with 200, when every check is up', async () => {
    const report = await readiness({
      redis: async () => ({ status: 'up' }),
      store: async () => ({ status: 'up' }),
    });
    expect(report).toEqual({
      status: 'ready',
      down: [],
      checks: { redis: { status: 'up' }, store: { status: 'up' } },
    });
    expect(readinessStatus(report)).toBe(200);
  });

  it('names what is down, with 503, and counts a check that throws as down', async () => {
    const report = await readiness({
      redis: async () => ({ status: 'up' }),
      store: async () => ({ status: 'down', code: 'timeout', message: 'no answer within 2000 ms' }),
      queue: flagCheck(() => false, 'not taking jobs'),
      broken: () => Promise.reject(new TypeError('bug')),
    });
    expect(report.status).toBe('unavailable');
    expect(report.down).toEqual(['store', 'queue', 'broken']);
    expect(report.checks.redis).toEqual({ status: 'up' });
    expect(report.checks.queue).toEqual({
      status: 'down',
      code: 'unavailable',
      message: 'not taking jobs',
    });
    expect(report.checks.broken).toEqual({
      status: 'down',
      code: 'unavailable',
      message: 'TypeError',
    });
    expect(readinessStatus(report)).toBe(503);
  });
});

describe('failure reasons', () => {
  it('keep the error name or code and status, never the message with its host and key', () => {
    expect(failureReason(s3Error('AccessDenied', 403))).toBe('AccessDenied (status 403)');
    expect(failureReason(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).toBe('ETIMEDOUT');
    expect(failureReason(Object.assign(new Error('x'), { code: 'has spaces: 10.0.0.5' }))).toBe(
      'Error',
    );
    expect(failureReason('a string')).toBe('error');
  });
});
