import type { Usage } from '../session/log-entry.ts';
import table from './model-prices.json' with { type: 'json' };

export type ModelPrice = { input: number; cachedInput: number; output: number };

const prices = new Map(
  Object.entries(table).filter((e): e is [string, ModelPrice] => !e[0].startsWith('$')),
);
const keysLongestFirst = [...prices.keys()].sort((a, b) => b.length - a.length);
const resolved = new Map<string, ModelPrice | undefined>();

/** The price of `<provider>:<model>`, by longest matching prefix; `undefined` when unknown. */
export function priceOf(provider: string, model: string): ModelPrice | undefined {
  const ref = `${provider}:${model}`;
  if (resolved.has(ref)) return resolved.get(ref);
  const key = keysLongestFirst.find((k) => ref.startsWith(k));
  const price = key === undefined ? undefined : prices.get(key);
  resolved.set(ref, price);
  return price;
}

/** Cost in USD; cached input tokens are billed at the cached rate, the rest at the input rate. */
export function costOf(price: ModelPrice | undefined, usage: Usage): number {
  if (!price) return 0;
  const uncached = Math.max(0, usage.input - usage.cached);
  return (
    (uncached * price.input + usage.cached * price.cachedInput + usage.output * price.output) / 1e6
  );
}
