import type { LlmError } from './llm-types.ts';

/**
 * Thrown by an adapter's `translate` or `end` when the stream itself says the call failed (an
 * error event after HTTP 200, a missing terminal marker). The driver turns it into a terminal
 * `finish` event like any other failure.
 */
export class StreamFailure extends Error {
  readonly error: LlmError;
  constructor(error: LlmError) {
    super(error.message);
    this.name = 'StreamFailure';
    this.error = error;
  }
}
