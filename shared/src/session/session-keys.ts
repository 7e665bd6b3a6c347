/**
 * Redis keys and blob keys of a session. Redis keys share a `{sessionId}` hash tag so that a
 * script touching several of them runs on one Redis Cluster slot.
 */
export const redisKeys = {
  sessionIndex: 'tern:sessions',
  meta: (id: string) => `tern:{${id}}:meta`,
  inputs: (id: string) => `tern:{${id}}:inputs`,
  clientIds: (id: string) => `tern:{${id}}:client-ids`,
  segments: (id: string) => `tern:{${id}}:segments`,
  lease: (id: string) => `tern:{${id}}:lease`,
  events: (id: string) => `tern:{${id}}:events`,
  /** Messages for the running turn, delivered at its next step boundary. */
  steering: (id: string) => `tern:{${id}}:steering`,
  /** The turn id a user asked to cancel; read by whichever worker runs (or will run) it. */
  cancel: (id: string) => `tern:{${id}}:cancel`,
  /** Pub/sub channel that tells workers about cancels at once. */
  cancelChannel: 'tern:cancel',
};

const pad = (n: number) => String(n).padStart(10, '0');

export const blobKeys = {
  sessionPrefix: (id: string) => `sessions/${id}/`,
  meta: (id: string) => `sessions/${id}/session.json`,
  segment: (id: string, first: number, last: number) =>
    `sessions/${id}/segments/${pad(first)}-${pad(last)}.jsonl`,
  workspaceFile: (id: string, path: string) => `sessions/${id}/workspace/${path}`,
  workspacePrefix: (id: string) => `sessions/${id}/workspace/`,
};

export const segmentName = (first: number, last: number) => `${pad(first)}-${pad(last)}`;
