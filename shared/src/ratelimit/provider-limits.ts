import { z } from 'zod';
import type { BucketSpec } from './token-bucket.ts';

const limitFields = {
  /** Sustained requests per minute, per endpoint (API key or replica). */
  requestsPerMinute: z.number().positive().optional(),
  /** Requests that may go at once after a pause; default: ten seconds' worth, at least 1. */
  requestBurst: z.number().int().min(1).optional(),
  /** Sustained input + output tokens per minute, per endpoint. */
  tokensPerMinute: z.number().positive().optional(),
  /** Tokens that may go at once after a pause; default: ten seconds' worth. */
  tokenBurst: z.number().int().min(1).optional(),
  /** Calls in flight at once, per endpoint. */
  maxConcurrent: z.number().int().min(1).optional(),
};

const modelLimitsSchema = z.strictObject(limitFields);

const providerLimitSchema = z.strictObject({
  ...limitFields,
  /** Limits of single models, on top of the provider's (OpenAI, for one, limits each model). */
  models: z.record(z.string().min(1), modelLimitsSchema).default({}),
  /** Output tokens a call without `maxTokens` is assumed to use until its real usage is known. */
  expectedOutputTokens: z.number().int().min(1).default(1024),
  /** Cooldown after a 429/529 that named no retry-after. */
  cooldownMs: z.number().int().min(1).default(1000),
});

/**
 * `TERN_PROVIDER_LIMITS`: limits by provider name (`openai`, `openai-compatible`, `anthropic`,
 * `gemini`). Each endpoint of a provider gets the limits on its own: providers count per key, and
 * each replica has its own capacity.
 */
export const providerLimitsSchema = z.record(z.string().min(1), providerLimitSchema);

export type ProviderLimits = z.infer<typeof providerLimitsSchema>;
export type ProviderLimit = z.infer<typeof providerLimitSchema>;
type ScopeLimits = z.infer<typeof modelLimitsSchema>;

export const DEFAULT_COOLDOWN_MS = 1000;
const DEFAULT_EXPECTED_OUTPUT = 1024;

export type BucketPlan = BucketSpec & {
  /** Names the bucket under its endpoint: `req`, `tok`, `m:<model>:req`, `m:<model>:tok`. */
  scope: string;
  kind: 'requests' | 'tokens';
  /** Units this call takes (tokens: the estimate, clamped to the burst). */
  charge: number;
};

/** `max` 0: calls in flight are only counted, to send the next call to the least loaded replica. */
export type ConcurrencyPlan = { scope: string; max: number };

/** What one call of one model must get, on whichever endpoint it goes to. */
export type CallPlan = {
  buckets: BucketPlan[];
  concurrency: ConcurrencyPlan[];
  /** The estimate the token buckets were charged. */
  tokens: number;
};

export type CallEstimate = { promptTokens: number; maxOutputTokens?: number };

/** The buckets and concurrency limits a call goes through. Pure: the same for every limiter. */
export function planCall(
  limit: ProviderLimit | undefined,
  model: string,
  estimate: CallEstimate,
  endpointCount: number,
): CallPlan {
  const expected = limit?.expectedOutputTokens ?? DEFAULT_EXPECTED_OUTPUT;
  const tokens = Math.max(
    1,
    Math.ceil(estimate.promptTokens + (estimate.maxOutputTokens ?? expected)),
  );
  const buckets: BucketPlan[] = [];
  const concurrency: ConcurrencyPlan[] = [];
  const add = (prefix: string, scope: ScopeLimits | undefined, tracked: boolean) => {
    if (scope?.requestsPerMinute) {
      const ratePerSec = scope.requestsPerMinute / 60;
      const burst = scope.requestBurst ?? Math.max(1, Math.floor(ratePerSec * 10));
      buckets.push({ scope: `${prefix}req`, kind: 'requests', ratePerSec, burst, charge: 1 });
    }
    if (scope?.tokensPerMinute) {
      const ratePerSec = scope.tokensPerMinute / 60;
      const burst = scope.tokenBurst ?? Math.max(1, Math.floor(ratePerSec * 10));
      const charge = Math.min(tokens, burst);
      buckets.push({ scope: `${prefix}tok`, kind: 'tokens', ratePerSec, burst, charge });
    }
    if (scope?.maxConcurrent || tracked) {
      concurrency.push({ scope: `${prefix}inflight`, max: scope?.maxConcurrent ?? 0 });
    }
  };
  // Several endpoints: calls in flight are counted per endpoint even without a limit, so that
  // replicas share the load by what they are running, not only by turns.
  add('', limit, endpointCount > 1);
  add(`m:${model}:`, limit?.models[model], false);
  return { buckets, concurrency, tokens };
}

export const cooldownOf = (limit: ProviderLimit | undefined): number =>
  limit?.cooldownMs ?? DEFAULT_COOLDOWN_MS;
