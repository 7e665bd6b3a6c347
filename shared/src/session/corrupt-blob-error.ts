import { TernError } from '../errors/tern-error.ts';

/** What is wrong with a blob read back from the store. */
export type CorruptReason =
  | 'missing'
  | 'truncated'
  | 'checksum'
  | 'malformed'
  /** The blob is intact but its entries do not continue the log where the previous blob ended. */
  | 'gap';

/**
 * A stored blob of a session's log that cannot be trusted. It names the session and the key so an
 * operator can find the blob; it is never retryable, since reading it again gives the same bytes.
 */
export class CorruptBlobError extends TernError {
  readonly sessionId: string;
  readonly key: string;
  readonly reason: CorruptReason;

  constructor(key: string, reason: CorruptReason, detail: string) {
    const sessionId = sessionIdOfKey(key);
    super({
      code: 'corrupt_blob',
      status: 500,
      retryable: false,
      message: `session ${sessionId}: blob ${key} is ${reason === 'missing' ? 'missing' : 'corrupt'} (${reason}): ${detail}`,
      details: { sessionId, key, reason },
    });
    this.name = 'CorruptBlobError';
    this.sessionId = sessionId;
    this.key = key;
    this.reason = reason;
  }

  static is(value: unknown): value is CorruptBlobError {
    return TernError.isInstance(value) && value.code === 'corrupt_blob';
  }
}

/** `sessions/<id>/...` → `<id>`; other keys name no session. */
export function sessionIdOfKey(key: string): string {
  const match = /^sessions\/([^/]+)\//.exec(key);
  return match?.[1] ?? '(none)';
}
