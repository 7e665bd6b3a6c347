import { matchesGlob } from 'node:path';
import { batchError } from './batch-errors.ts';
import { findExportedFunctions, languageOf, type SourceLanguage } from './exported-functions.ts';
import type { SnapshotReader, TestFramework } from './framework-detect.ts';

/** One unit of a batch job: a file, or one exported function (or class) of it. */
export type BatchTarget = {
  /** `file`, or `file#name`: stable across runs, so a resumed job knows what it finished. */
  id: string;
  file: string;
  kind: 'file' | 'function' | 'class' | 'method';
  /** The function, class or `Type.Method`, for a target inside a file. */
  name?: string;
  line?: number;
};

export type TargetSpec = {
  /** Globs over the snapshot's files (`src/**\/*.ts`). */
  globs: readonly string[];
  /** Files named one by one; each must exist. */
  files: readonly string[];
  /** One target per exported function or class of each file the globs and files select. */
  functions: boolean;
  /** Functions named one by one; each must exist and be exported. */
  functionTargets: ReadonlyArray<{ file: string; name: string }>;
  /** Globs of files to leave out of what the globs select. */
  exclude: readonly string[];
  maxTargets: number;
};

/** Folders that hold no code of the project's own: dependencies, builds, caches. */
export const SKIPPED_DIRS = new Set([
  'node_modules',
  '.git',
  'dist',
  'build',
  'coverage',
  '.next',
  '.venv',
  'venv',
  '.tox',
  '__pycache__',
  'site-packages',
  'vendor',
  'testdata',
]);

/** Folders of tests, whose files are tests, not targets. */
const TEST_DIRS = new Set(['test', 'tests', '__tests__', '__mocks__', 'spec', 'e2e']);

/**
 * Why a file found by a glob is not a target, or undefined if it is one: it lies in a skipped
 * folder, is a test itself (`*.test.*`, `*.spec.*`, `test_*.py`, `*_test.py`, `*_test.go`,
 * `conftest.py`, anything under `test/`, `tests/`, `__tests__/`…), is a tool's configuration
 * (`*.config.*`, `setup.py`, `__init__.py`), or is not source of the framework's language.
 */
export function whyNotTarget(path: string, framework?: TestFramework): string | undefined {
  const segments = path.split('/');
  const name = segments.at(-1) ?? '';
  const dirs = segments.slice(0, -1);
  const skippedDir = dirs.find((d) => SKIPPED_DIRS.has(d));
  if (skippedDir) return `in ${skippedDir}/`;
  if (dirs.some((d) => TEST_DIRS.has(d))) return 'in a test folder';
  if (
    /\.(test|spec)\.[cm]?[jt]sx?$/.test(name) ||
    /^test_.*\.py$/.test(name) ||
    /_test\.(py|go)$/.test(name) ||
    name === 'conftest.py'
  ) {
    return 'a test file';
  }
  if (/\.config\.[cm]?[jt]s$/.test(name) || name === 'setup.py' || name === '__init__.py') {
    return 'configuration';
  }
  const language = languageOf(path);
  if (!language) return 'not source code';
  if (framework && !LANGUAGES[framework].includes(language)) return `not ${framework} source`;
  return undefined;
}

const LANGUAGES: Record<TestFramework, readonly SourceLanguage[]> = {
  vitest: ['typescript', 'javascript'],
  jest: ['typescript', 'javascript'],
  pytest: ['python'],
  go: ['go'],
};

export type DiscoveredTargets = {
  targets: BatchTarget[];
  /** Files the globs selected that yield no target, and why. */
  skipped: Array<{ file: string; reason: string }>;
};

/**
 * The targets of a job over a snapshot's file list: files selected by the globs (minus
 * `exclude` and `whyNotTarget`) and named explicitly (kept even if a glob would skip them),
 * split into their exported functions when `functions` is set, plus the functions named
 * explicitly. Sorted by file and line. Nothing selected is `no_targets`; a named file or
 * function that does not exist is `target_not_found`.
 */
export async function discoverTargets(
  files: readonly string[],
  spec: TargetSpec,
  read: SnapshotReader,
  framework?: TestFramework,
): Promise<DiscoveredTargets> {
  const present = new Set(files);
  const skipped: DiscoveredTargets['skipped'] = [];
  const selected = new Set<string>();
  for (const file of files) {
    if (!spec.globs.some((g) => matchesGlob(file, g))) continue;
    if (spec.exclude.some((g) => matchesGlob(file, g))) continue;
    const reason = whyNotTarget(file, framework);
    if (reason) skipped.push({ file, reason });
    else selected.add(file);
  }
  const missing = [
    ...spec.files.filter((f) => !present.has(f)),
    ...spec.functionTargets.filter((t) => !present.has(t.file)).map((t) => t.file),
  ];
  if (missing.length > 0) {
    throw batchError(
      'target_not_found',
      `not in the snapshot: ${[...new Set(missing)].join(', ')}`,
      {
        missing,
      },
    );
  }
  for (const file of spec.files) selected.add(file);

  const targets = new Map<string, BatchTarget>();
  const add = (target: BatchTarget) => targets.set(target.id, target);
  const exportsOf = async (file: string) => findExportedFunctions(file, (await read(file)) ?? '');
  for (const file of selected) {
    if (!spec.functions) {
      add({ id: file, file, kind: 'file' });
      continue;
    }
    const found = await exportsOf(file);
    if (found.length === 0) skipped.push({ file, reason: 'exports no function' });
    for (const f of found)
      add({ id: `${file}#${f.name}`, file, kind: f.kind, name: f.name, line: f.line });
  }
  for (const wanted of spec.functionTargets) {
    const found = (await exportsOf(wanted.file)).find((f) => f.name === wanted.name);
    if (!found) {
      throw batchError(
        'target_not_found',
        `${wanted.file} exports no function or class named ${wanted.name}`,
        { file: wanted.file, name: wanted.name },
      );
    }
    add({
      id: `${wanted.file}#${found.name}`,
      file: wanted.file,
      kind: found.kind,
      name: found.name,
      line: found.line,
    });
  }

  if (targets.size === 0) {
    const seen =
      skipped.length > 0 ? ` (${skipped.length} file(s) skipped: ${describe(skipped)})` : '';
    throw batchError(
      'no_targets',
      `the targets select nothing to test${seen}; node_modules, build folders and test files are never targets`,
      { skipped: skipped.slice(0, 50) },
    );
  }
  if (targets.size > spec.maxTargets) {
    throw batchError(
      'too_many_targets',
      `${targets.size} targets, more than the job's maxTargets ${spec.maxTargets}: narrow the globs`,
    );
  }
  const sorted = [...targets.values()].sort(
    (a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0),
  );
  return { targets: sorted, skipped };
}

function describe(skipped: DiscoveredTargets['skipped']): string {
  const shown = skipped.slice(0, 3).map((s) => `${s.file}: ${s.reason}`);
  return skipped.length > 3 ? `${shown.join('; ')}; …` : shown.join('; ');
}
