import { describe, expect, it } from 'vitest';
import { createHistogram } from './histogram.ts';

describe('createHistogram', () => {
  it('renders cumulative buckets, +Inf, sum and count in Prometheus text', () => {
    const h = createHistogram([0.1, 1]);
    for (const v of [0.05, 0.5, 0.5, 3]) h.observe(v);
    expect(h.lines('x_seconds', 'm="a"')).toEqual([
      'x_seconds_bucket{m="a",le="0.1"} 1',
      'x_seconds_bucket{m="a",le="1"} 3',
      'x_seconds_bucket{m="a",le="+Inf"} 4',
      'x_seconds_sum{m="a"} 4.05',
      'x_seconds_count{m="a"} 4',
    ]);
  });
});
