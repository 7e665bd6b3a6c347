/** A Prometheus histogram: cumulative buckets, sum and count, rendered in the text format. */
export interface Histogram {
  observe(value: number): void;
  /** The sample lines (no HELP/TYPE), each bucket labelled `le` after `labels`. */
  lines(name: string, labels: string): string[];
}

export function createHistogram(buckets: readonly number[]): Histogram {
  const counts = new Array<number>(buckets.length).fill(0);
  let sum = 0;
  let count = 0;
  return {
    observe(value) {
      sum += value;
      count++;
      const at = buckets.findIndex((le) => value <= le);
      if (at !== -1) counts[at]!++;
    },
    lines(name, labels) {
      const prefix = labels === '' ? '' : `${labels},`;
      let cumulative = 0;
      const out = buckets.map((le, i) => {
        cumulative += counts[i]!;
        return `${name}_bucket{${prefix}le="${le}"} ${cumulative}`;
      });
      out.push(`${name}_bucket{${prefix}le="+Inf"} ${count}`);
      const braces = labels === '' ? '' : `{${labels}}`;
      out.push(`${name}_sum${braces} ${sum}`, `${name}_count${braces} ${count}`);
      return out;
    },
  };
}
