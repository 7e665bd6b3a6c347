import type { LlmError, LlmEvent, LlmRequest } from './llm-types.ts';

/**
 * One wire API (Chat Completions, Anthropic Messages, Gemini), as the stream driver uses it. The
 * I/O is `open` (the official SDK's streaming call); translation is a pure function of a chunk and
 * a per-call state, so it is tested on recorded chunks and costs no extra async layer per event.
 */
export interface WireAdapter<Chunk, State> {
  /** The provider name recorded in `ProviderMeta` and in history origins. */
  readonly provider: string;
  /**
   * Starts the call; resolves once the response headers arrived and the body is streaming. HTTP
   * errors and connection failures reject here.
   */
  open(request: LlmRequest, signal: AbortSignal): Promise<AsyncIterable<Chunk>>;
  createState(request: LlmRequest): State;
  /** Appends the normalised events of one wire chunk to `out`. May throw a malformed-stream error. */
  translate(chunk: Chunk, state: State, out: LlmEvent[]): void;
  /**
   * The wire stream ended. Appends the closing events (`tool_call_end`s, `usage`, then `finish`).
   * A stream that ended without its terminal marker ends with a `network` error instead.
   */
  end(state: State, out: LlmEvent[]): void;
  /** Maps anything `open` or the chunk iteration threw to the error taxonomy. */
  mapError(error: unknown): LlmError;
}
