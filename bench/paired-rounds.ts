/**
 * Statistics for A/B benchmarks run in interleaved rounds on a shared machine, where the load
 * other work puts on it drifts by tens of percent within a minute. Each "B" round is compared with
 * the "A" round run right beside it, so that drift cancels within a pair; the figure is the median
 * of those paired differences, with the spread of the pairs and a bootstrap interval of the
 * median, so that a difference the noise could produce is reported as such.
 */

export type PairedCost = {
  /** Median over pairs of (b − a) / a: the relative cost of B over A. */
  median: number;
  /** Interquartile range of the paired differences. */
  q1: number;
  q3: number;
  /** A 90% bootstrap interval of the median. */
  low: number;
  high: number;
  pairs: number;
};

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile of unsorted values. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((x, y) => x - y);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

/**
 * The relative cost of `b` over `a`, pair by pair (`a[i]` and `b[i]` ran next to each other).
 * `higherIsBetter`: for a rate (turns/s) the cost is (a − b) / a; for a cost (CPU per turn) it is
 * (b − a) / a. The interval resamples the pairs with a fixed seed, so a run's output is
 * reproducible from its rounds.
 */
export function pairedCost(
  a: readonly number[],
  b: readonly number[],
  higherIsBetter: boolean,
): PairedCost {
  const n = Math.min(a.length, b.length);
  const diffs = Array.from({ length: n }, (_, i) => {
    const x = a[i] as number;
    const y = b[i] as number;
    return higherIsBetter ? (x - y) / x : (y - x) / x;
  });
  const random = mulberry32(0x7e7a);
  const medians = Array.from({ length: 2000 }, () =>
    median(Array.from({ length: n }, () => diffs[Math.floor(random() * n)] as number)),
  );
  return {
    median: median(diffs),
    q1: quantile(diffs, 0.25),
    q3: quantile(diffs, 0.75),
    low: quantile(medians, 0.05),
    high: quantile(medians, 0.95),
    pairs: n,
  };
}

/**
 * How far two rounds of the same mode, run one after the other, differ (median absolute
 * relative difference): the noise floor any A/B difference must stand out from.
 */
export function noiseFloor(rounds: readonly number[]): number {
  const diffs: number[] = [];
  for (let i = 1; i < rounds.length; i++) {
    const x = rounds[i - 1] as number;
    diffs.push(Math.abs((rounds[i] as number) - x) / x);
  }
  return median(diffs);
}

/** Whether the cost is within `target`: yes, no, or undecided when the interval straddles it. */
export function verdict(cost: PairedCost, target: number): string {
  if (cost.high <= target) return 'met';
  if (cost.low > target) return 'missed';
  return cost.median <= target
    ? 'met by the median; the noise interval reaches past it'
    : 'undecided: the noise interval straddles it';
}

export const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** `+1.2% (IQR −0.5…+3.0%, 90% CI of the median −0.1…+2.4%, 12 pairs)` */
export function describeCost(cost: PairedCost): string {
  return (
    `${pct(cost.median)} (IQR ${pct(cost.q1)}…${pct(cost.q3)}, ` +
    `90% CI of the median ${pct(cost.low)}…${pct(cost.high)}, ${cost.pairs} pairs)`
  );
}

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
