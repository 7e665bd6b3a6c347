import type { Metric, Registry } from 'prom-client';

export type BucketHistogramConfig<L extends string> = {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** Upper bounds, ascending; `+Inf` is implied. */
  buckets: readonly number[];
  registers: readonly Registry[];
};

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** One label set's counts: per bucket (not cumulative), their sum and how many. */
type Series = {
  labels: Record<string, string | number>;
  counts: Float64Array;
  sum: number;
  count: number;
};

/** A sample as prom-client's registry reads it from `get()`. */
type Sample = { labels: Record<string, string | number>; value: number; metricName: string };

/**
 * A Prometheus histogram for values observed on a turn's hot path. prom-client's own histogram
 * copies, validates and hashes the labels and converts the bucket bound to an object key on every
 * observation, and its `.labels()` children do the same again; this one finds a label set's
 * series once in a map keyed by its values and then adds to plain numbers. What the registry
 * exposes (`_bucket` with `le`, `_sum`, `_count`) is the same as prom-client's histogram's.
 *
 * It registers itself through prom-client's `registerMetric`, which reads only `name`, `help`,
 * `type`, `aggregator`, `get()` and `reset()` from a metric (the typings name prom-client's own
 * classes, hence the cast).
 */
export class BucketHistogram<L extends string = never> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #labelNames: readonly L[];
  readonly #bounds: Float64Array;
  #series = new Map<string, Series>();

  constructor(config: BucketHistogramConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.#labelNames = config.labelNames ?? [];
    this.#bounds = Float64Array.from(config.buckets);
    for (let i = 1; i < this.#bounds.length; i++) {
      if (!((this.#bounds[i] as number) > (this.#bounds[i - 1] as number))) {
        throw new Error(`${config.name}: buckets must be ascending`);
      }
    }
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** Adds `value` to the series of `labels`; a value that is not finite is ignored. */
  observe(value: number): void;
  observe(labels: Labels<L>, value: number): void;
  observe(labelsOrValue: Labels<L> | number, maybeValue?: number): void {
    const labels = typeof labelsOrValue === 'number' ? undefined : labelsOrValue;
    const value = typeof labelsOrValue === 'number' ? labelsOrValue : (maybeValue as number);
    if (!Number.isFinite(value)) return;
    const series = this.#seriesOf(labels);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) series.counts[i] = (series.counts[i] as number) + 1;
    series.sum += value;
    series.count += 1;
  }

  reset(): void {
    this.#series = new Map();
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: Sample[];
  }> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += series.counts[i] as number;
        values.push({
          labels: { ...series.labels, le: bound },
          value: cumulative,
          metricName: bucket,
        });
      });
      values.push(
        { labels: { ...series.labels, le: '+Inf' }, value: series.count, metricName: bucket },
        { labels: series.labels, value: series.sum, metricName: `${this.name}_sum` },
        { labels: series.labels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  #seriesOf(labels: Labels<L> | undefined): Series {
    let key = '';
    if (labels) {
      for (const name of this.#labelNames) key += `${labels[name] ?? ''}\u0001`;
    }
    let series = this.#series.get(key);
    if (!series) {
      const own: Record<string, string | number> = {};
      for (const name of this.#labelNames) {
        const value = labels?.[name];
        if (value !== undefined) own[name] = value;
      }
      series = { labels: own, counts: new Float64Array(this.#bounds.length), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    return series;
  }
}
