/**
 * Redis keys of the provider limits. A provider's keys share its `{provider}` hash tag, so the
 * scripts that weigh all its endpoints at once run on one Redis Cluster slot. Endpoints are named
 * by id (a hash of URL and key, see llm/provider-endpoints.ts), never by their key.
 */
const tagged = (provider: string) => `tern:pl:{${provider}}`;

export const providerLimitKeys = {
  /** STRING: calls granted so far; where the round robin over the endpoints starts. */
  rotation: (provider: string) => `${tagged(provider)}:rr`,
  /** STRING with a PX expiry: present while the endpoint cools down after a 429/529. */
  cooldown: (provider: string, endpoint: string) => `${tagged(provider)}:${endpoint}:cool`,
  /** A bucket (HASH level, at) or an in-flight set (ZSET holder -> expiry) of an endpoint. */
  scope: (provider: string, endpoint: string, scope: string) =>
    `${tagged(provider)}:${endpoint}:${scope}`,
  /** Pub/sub channel announcing freed slots (the message: the provider), to wake waiting calls. */
  releasedChannel: 'tern:pl:released',
};
