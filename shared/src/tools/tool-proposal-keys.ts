/**
 * Redis and blob keys of a session's tool proposals. Redis keys carry the session's `{id}` hash
 * tag, like the session's own keys, so each script runs on one Redis Cluster slot.
 */
export const toolProposalKeys = {
  /** ZSET of proposal ids scored by when they were first proposed. */
  index: (sessionId: string) => `tern:{${sessionId}}:tool-proposals`,
  /** HASH of one proposal's review state (status, reason, decision). */
  proposal: (sessionId: string, proposalId: string) =>
    `tern:{${sessionId}}:tool-proposal:${proposalId}`,
  /** HASH tool name → approved proposal id: what later turns offer, and the names held. */
  approved: (sessionId: string) => `tern:{${sessionId}}:tools`,
  /** Blob with the definition (code and schema); content-addressed, so never rewritten. */
  definition: (sessionId: string, proposalId: string) =>
    `sessions/${sessionId}/tool-proposals/${proposalId}.json`,
};
