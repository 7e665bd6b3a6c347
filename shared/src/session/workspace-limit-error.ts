import { TernError } from '../errors/tern-error.ts';

/** How large a session's workspace may grow (`WORKSPACE_MAX_FILES`, `WORKSPACE_MAX_BYTES`). */
export type WorkspaceLimits = { maxFiles: number; maxBytes: number };

/**
 * The workspace outgrew its limits, so the step's changes cannot be stored. What was counted is a
 * lower bound when the count stopped early (`atLeast`).
 */
export class WorkspaceTooLargeError extends TernError {
  constructor(
    sessionId: string,
    found: { files: number; bytes: number; atLeast: boolean },
    limits: WorkspaceLimits,
  ) {
    const over = found.files > limits.maxFiles ? 'files' : 'bytes';
    const counted =
      over === 'files'
        ? `${found.atLeast ? 'at least ' : ''}${found.files} files (the limit is ${limits.maxFiles}, WORKSPACE_MAX_FILES)`
        : `${found.atLeast ? 'at least ' : ''}${found.bytes} bytes (the limit is ${limits.maxBytes}, WORKSPACE_MAX_BYTES)`;
    super({
      code: 'workspace_too_large',
      status: 413,
      retryable: false,
      message: `the workspace of session ${sessionId} holds ${counted}; the changes since its last saved state were not kept`,
      details: { sessionId, ...found, ...limits },
    });
    this.name = 'WorkspaceTooLargeError';
  }

  static is(value: unknown): value is WorkspaceTooLargeError {
    return TernError.isInstance(value) && value.code === 'workspace_too_large';
  }
}
