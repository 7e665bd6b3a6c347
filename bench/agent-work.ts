/** The same work, run by each agent harness in the benchmark. */
export type AgentHarness = {
  name: string;
  /** One turn: a response with `calls` tool calls of `toolMs` each, then a final answer. */
  toolsTurn(calls: number, toolMs: number): Promise<void>;
  /** One turn: a response with `calls` no-op tool calls, each behind a `hookMs` before-hook. */
  hooksTurn(calls: number, hookMs: number): Promise<void>;
  /**
   * One turn of `steps` responses with one no-op tool call each, then a final answer, over a
   * zero-latency in-process model. Returns when each model call started.
   */
  longTurn(steps: number): Promise<number[]>;
};
