/**
 * Redis keys of users and tokens. They share the `{auth}` hash tag, so the scripts that touch
 * several of them run on one Redis Cluster slot.
 */
export const authKeys = {
  /** HASH user name -> user id. */
  names: 'tern:{auth}:names',
  /** HASH id, name, admin ('1' | '0'), createdAt. */
  user: (userId: string) => `tern:{auth}:user:${userId}`,
  /** HASH userId, name, admin, tokenId: what a request's token resolves to. */
  token: (sha256: string) => `tern:{auth}:token:${sha256}`,
  /** HASH token id -> JSON {userId, hash, createdAt}: every live token, to list and revoke. */
  tokens: 'tern:{auth}:tokens',
  /** Pub/sub channel announcing revoked token hashes, so gateways drop their sockets at once. */
  revokedChannel: 'tern:auth:revoked',
  /** A user's API request bucket (user-rate-limit-1.lua). */
  rateBucket: (userId: string) => `tern:{rate:${userId}}:api`,
};
