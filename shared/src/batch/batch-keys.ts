/**
 * Redis and blob keys of a batch job. Redis keys of one batch share a `{batchId}` hash tag so a
 * script touching several of them runs on one Redis Cluster slot. The snapshot itself is not
 * here: it is a workspace store under the batch id (`sessions/<batchId>/ws/`, workspace-store.ts)
 * that the target sessions name as their ancestor.
 */
export const batchKeys = {
  /** HASH: id, owner, title, status, createdAt, finishedAt, framework, … (batch-store.ts). */
  meta: (id: string) => `tern:batch:{${id}}:meta`,
  /** HASH targetId → JSON `BatchTargetState`. */
  targets: (id: string) => `tern:batch:{${id}}:targets`,
  /** HASH inputTokens, outputTokens, costMicroUsd, summed over finished target attempts. */
  totals: (id: string) => `tern:batch:{${id}}:totals`,
  /** SET of `<targetId>:a<attempt>` already added to the totals: a retried job never adds twice. */
  counted: (id: string) => `tern:batch:{${id}}:counted`,
  /** STREAM of batch events, field `e` = JSON `BatchEvent`. */
  events: (id: string) => `tern:batch:{${id}}:events`,
  /** ZSET of every batch, scored by creation. */
  index: 'tern:batches',
  /** ZSET of one user's batches, scored by creation. */
  ownerIndex: (userId: string) => `tern:batches:owner:${userId}`,
};

export const batchBlobKeys = {
  prefix: (id: string) => `batches/${id}/`,
  /** What the dispatcher needs per target (prompts rendered, framework, budgets, sim controls). */
  prepared: (id: string) => `batches/${id}/prepared.json`,
  resultsPrefix: (id: string) => `batches/${id}/results/`,
  /** A finished target's `TargetResult`, written before its state turns terminal. */
  result: (id: string, targetId: string) => `batches/${id}/results/${targetId}.json`,
};
