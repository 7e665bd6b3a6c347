import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { batchError } from './batch-errors.ts';
import type { BatchJobRequest, BatchSource } from './batch-job-request.ts';
import {
  detectFrameworks,
  type ResolvedFramework,
  resolveFramework,
  type SnapshotReader,
} from './framework-detect.ts';
import { DEFAULT_PROMPT_TEMPLATE, renderPrompt } from './prompt-template.ts';
import {
  DEFAULT_SNAPSHOT_LIMITS,
  isInside,
  type Snapshot,
  type SnapshotLimits,
} from './snapshot.ts';
import { readDirectorySnapshot } from './snapshot-directory.ts';
import { extractTarballSnapshot } from './snapshot-extract.ts';
import { type BatchTarget, type DiscoveredTargets, discoverTargets } from './target-discovery.ts';

export type BatchInputOptions = {
  /** Where a tarball or upload is unpacked (absent or empty). */
  unpackTo: string;
  /** Server folders a `directory` source may name (the operator's setting). */
  allowedRoots: readonly string[];
  limits?: SnapshotLimits;
  /** The bytes of an uploaded archive; uploads are refused without it. */
  readUpload?: (uploadId: string) => Promise<Uint8Array>;
};

export type PreparedBatch = {
  snapshot: Snapshot;
  framework: ResolvedFramework;
  targets: BatchTarget[];
  skipped: DiscoveredTargets['skipped'];
  /** The first message of a target's agent. */
  promptFor(target: BatchTarget): Promise<string>;
};

/**
 * Everything a batch job needs before its first agent starts, from the validated request: the
 * snapshot laid out and checked, the test framework and command, the targets, and their
 * prompts. Every refusal is a TernError with a batch error code (see batch-errors.ts).
 */
export async function prepareBatchInputs(
  request: BatchJobRequest,
  options: BatchInputOptions,
): Promise<PreparedBatch> {
  const snapshot = await openSnapshot(request.source, options);
  const read = snapshotReader(snapshot);
  const framework = resolveFramework(
    {
      ...(request.framework ? { framework: request.framework } : {}),
      ...(request.testCommand ? { testCommand: request.testCommand } : {}),
    },
    await detectFrameworks(snapshot.files, read),
  );
  const { targets, skipped } = await discoverTargets(
    snapshot.files,
    request.targets,
    read,
    framework.framework,
  );
  const template = request.promptTemplate ?? DEFAULT_PROMPT_TEMPLATE;
  const needsSource = /\{\{\s*source\s*\}\}/.test(template);
  return {
    snapshot,
    framework,
    targets,
    skipped,
    promptFor: async (target) =>
      renderPrompt(template, {
        target,
        framework: framework.framework,
        testCommand: framework.command,
        allowTouchingSource: request.allowTouchingSource,
        ...(needsSource ? { source: (await read(target.file)) ?? '' } : {}),
      }),
  };
}

async function openSnapshot(source: BatchSource, options: BatchInputOptions): Promise<Snapshot> {
  const limits = options.limits ?? DEFAULT_SNAPSHOT_LIMITS;
  switch (source.kind) {
    case 'directory':
      return readDirectorySnapshot(source.path, { allowedRoots: options.allowedRoots, limits });
    case 'tarball':
      return extractTarballSnapshot(Buffer.from(source.base64, 'base64'), options.unpackTo, limits);
    case 'upload': {
      if (!options.readUpload) {
        throw batchError('invalid_source', 'this server takes no uploads: send the tarball inline');
      }
      return extractTarballSnapshot(
        await options.readUpload(source.uploadId),
        options.unpackTo,
        limits,
      );
    }
  }
}

/** Reads snapshot files by relative path, never through a link that leaves the snapshot. */
function snapshotReader(snapshot: Snapshot): SnapshotReader {
  const listed = new Set(snapshot.files);
  return async (path) => {
    if (!listed.has(path)) return undefined;
    const full = join(snapshot.root, path);
    if (!isInside(snapshot.root, full)) return undefined;
    try {
      return await readFile(full, 'utf8');
    } catch {
      return undefined;
    }
  };
}
