import { Counter, type Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.ts';
import { BoundedLabel, bucketsOf } from './metrics.ts';

/**
 * What the cluster-wide provider limits report: a worker calls these where a call waits for the
 * provider's rate limit, and where a provider is put in cooldown after a 429 or 529.
 */
export type ProviderMetrics = {
  /** A model call waited `ms` for the provider's rate limit before it was sent. */
  rateLimitWaited(provider: string, ms: number): void;
  /** The provider was put in cooldown for `ms` (`reason`: the error kind, e.g. rate_limited). */
  cooldownStarted(provider: string, ms: number, reason: string): void;
};

const REASONS = new Set(['rate_limited', 'overloaded', 'server']);

export function createProviderMetrics(registry: Registry): ProviderMetrics {
  const registers = [registry];
  const providers = new BoundedLabel(10);
  const waits = new BucketHistogram({
    name: 'tern_provider_rate_limit_wait_seconds',
    help: "Time model calls waited for their provider's rate limit",
    labelNames: ['provider'],
    buckets: bucketsOf('providerWait'),
    registers,
  });
  const cooldowns = new Counter({
    name: 'tern_provider_cooldowns_total',
    help: 'Cooldowns a provider was put in after it refused calls, by reason',
    labelNames: ['provider', 'reason'],
    registers,
  });
  const cooldownSeconds = new BucketHistogram({
    name: 'tern_provider_cooldown_seconds',
    help: 'Length of provider cooldowns',
    labelNames: ['provider'],
    buckets: bucketsOf('providerWait'),
    registers,
  });
  return {
    rateLimitWaited(provider, ms) {
      waits.observe({ provider: providers.value(provider) }, Math.max(0, ms) / 1000);
    },
    cooldownStarted(provider, ms, reason) {
      const label = providers.value(provider);
      cooldowns.inc({ provider: label, reason: REASONS.has(reason) ? reason : 'other' });
      cooldownSeconds.observe({ provider: label }, Math.max(0, ms) / 1000);
    },
  };
}
