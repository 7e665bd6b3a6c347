import { TernError } from '../errors/tern-error.ts';

/**
 * Every way a batch job's input can be refused, with its HTTP status. The API answers them as
 * `{error: {code, message}}`; a job runner reports them per target with the same codes.
 */
export const BATCH_ERROR_STATUS = {
  /** The body failed validation in a way no more specific code covers. */
  invalid_request: 400,
  /** No `source`: a tarball, an upload or a server directory is required. */
  missing_source: 400,
  invalid_source: 400,
  unknown_framework: 400,
  /** No glob, file or function given, or nothing matched them. */
  no_targets: 400,
  too_many_targets: 400,
  /** An explicit file or function that the snapshot does not have. */
  target_not_found: 400,
  unknown_placeholder: 400,
  /** No test framework given and none recognised in the snapshot. */
  framework_undetected: 422,
  /** No test framework given and several recognised. */
  framework_ambiguous: 422,
  snapshot_invalid: 400,
  snapshot_too_large: 413,
  snapshot_too_many_files: 413,
  /** An archive path that is absolute or climbs out with `..`. */
  snapshot_path_escape: 400,
  /** A symbolic link that resolves outside the snapshot. */
  snapshot_symlink_escape: 400,
  /** A hard link to anything but a file earlier in the same archive. */
  snapshot_hardlink_escape: 400,
  /** Devices, fifos, sparse files. */
  snapshot_unsupported_entry: 400,
  /** The server directory does not exist (or is not a directory). */
  snapshot_not_found: 400,
  /** The server directory is outside every folder the operator allowed. */
  snapshot_dir_not_allowed: 403,
} as const;

export type BatchErrorCode = keyof typeof BATCH_ERROR_STATUS;

export function batchError(
  code: BatchErrorCode,
  message: string,
  details?: Record<string, unknown>,
): TernError {
  return new TernError({
    code,
    message,
    status: BATCH_ERROR_STATUS[code],
    ...(details ? { details } : {}),
  });
}

/** The same, named for the snapshot readers. */
export const snapshotError = batchError;
