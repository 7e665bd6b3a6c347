import { createHash } from 'node:crypto';

/** One place a provider's calls can go: a base URL (the SDK's default when unset) and a key. */
export type ProviderEndpoint = { id: string; baseURL?: string; apiKey: string };

const split = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/**
 * A provider's endpoints from its `*_BASE_URL` and `*_API_KEY` settings, each a comma-separated
 * list: several URLs with one key are replicas sharing it, one URL with several keys spreads
 * calls over the keys, and equal numbers of both pair up in order. Ids are a hash of URL and key,
 * so every worker names an endpoint alike and no key ever appears in Redis, logs or metrics.
 */
export function providerEndpoints(
  provider: string,
  baseUrls: string | undefined,
  apiKeys: string,
): ProviderEndpoint[] {
  const urls = split(baseUrls);
  const keys = split(apiKeys);
  if (keys.length === 0) throw new Error(`${provider}: no API key`);
  let pairs: [string | undefined, string][];
  if (urls.length <= 1) pairs = keys.map((key) => [urls[0], key]);
  else if (keys.length === 1) pairs = urls.map((url) => [url, keys[0]!]);
  else if (keys.length === urls.length) pairs = urls.map((url, i) => [url, keys[i]!]);
  else {
    throw new Error(
      `${provider}: ${urls.length} base URLs and ${keys.length} API keys; give one key, one URL, or as many keys as URLs`,
    );
  }
  return pairs.map(([baseURL, apiKey]) => ({
    id: createHash('sha256')
      .update(`${baseURL ?? ''}\n${apiKey}`)
      .digest('hex')
      .slice(0, 12),
    ...(baseURL === undefined ? {} : { baseURL }),
    apiKey,
  }));
}
