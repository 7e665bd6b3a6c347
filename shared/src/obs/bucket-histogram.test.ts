import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram } from './bucket-histogram.ts';

/** An exposition's sample lines as `name{sorted labels} value`, in a canonical order. */
function samples(exposition: string): string[] {
  return exposition
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const m = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(line);
      if (!m) throw new Error(`unparsable sample ${line}`);
      const labels = (m[2] ?? '')
        .split(/,(?=[a-z_]+=")/)
        .filter(Boolean)
        .sort()
        .join(',');
      return `${m[1]}{${labels}} ${m[3]}`;
    })
    .sort();
}

const config = {
  name: 'tern_test_duration_seconds',
  help: 'A duration',
  labelNames: ['result', 'tool'] as const,
  buckets: [0.001, 0.01, 0.1, 1],
};

describe('a bucket histogram', () => {
  it("exposes what prom-client's histogram exposes for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new BucketHistogram({ ...config, registers: [ours] });
    const reference = new Histogram({
      ...config,
      labelNames: [...config.labelNames],
      registers: [theirs],
    });
    const observations: [Record<string, string>, number][] = [
      [{ result: 'committed', tool: 'read_file' }, 0.0004],
      [{ result: 'committed', tool: 'read_file' }, 0.001],
      [{ result: 'committed', tool: 'read_file' }, 0.05],
      [{ result: 'fenced', tool: 'bash' }, 7],
      [{ result: 'fenced' }, 0.2],
      [{ result: 'committed', tool: 'read_file' }, 1],
    ];
    for (const [labels, value] of observations) {
      fast.observe(labels, value);
      reference.observe(labels, value);
    }
    expect(samples(await ours.metrics())).toEqual(samples(await theirs.metrics()));
    expect(await ours.metrics()).toContain('# TYPE tern_test_duration_seconds histogram');
    expect(await ours.metrics()).toContain('# HELP tern_test_duration_seconds A duration');
  });

  it('observes without labels, and reads the same through the registry as JSON', async () => {
    const registry = new Registry();
    const bytes = new BucketHistogram({
      name: 'tern_test_bytes',
      help: 'Sizes',
      buckets: [256, 1024],
      registers: [registry],
    });
    bytes.observe(100);
    bytes.observe(300);
    bytes.observe(5000);
    const [metric] = await registry.getMetricsAsJSON();
    const value = (name: string, le?: string) =>
      metric?.values.find(
        (v) =>
          (v as { metricName?: string }).metricName === name &&
          (le === undefined || String(v.labels.le) === le),
      )?.value;
    expect(value('tern_test_bytes_bucket', '256')).toBe(1);
    expect(value('tern_test_bytes_bucket', '1024')).toBe(2);
    expect(value('tern_test_bytes_bucket', '+Inf')).toBe(3);
    expect(value('tern_test_bytes_sum')).toBe(5400);
    expect(value('tern_test_bytes_count')).toBe(3);
  });

  it('ignores values that are not finite and starts over on reset', async () => {
    const registry = new Registry();
    const h = new BucketHistogram({
      name: 'tern_test_x',
      help: 'x',
      buckets: [1],
      registers: [registry],
    });
    h.observe(Number.NaN);
    h.observe(Number.POSITIVE_INFINITY);
    expect(await registry.metrics()).not.toContain('tern_test_x_count');
    h.observe(0.5);
    expect(await registry.metrics()).toContain('tern_test_x_count 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('tern_test_x_count');
  });

  it('refuses buckets out of order, and a second metric of the same name', () => {
    const registry = new Registry();
    expect(
      () =>
        new BucketHistogram({
          name: 'tern_a',
          help: 'a',
          buckets: [1, 0.5],
          registers: [registry],
        }),
    ).toThrow(/ascending/);
    new BucketHistogram({ name: 'tern_b', help: 'b', buckets: [1], registers: [registry] });
    expect(
      () => new BucketHistogram({ name: 'tern_b', help: 'b', buckets: [1], registers: [registry] }),
    ).toThrow(/already been registered/);
  });
});
