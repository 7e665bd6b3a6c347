/**
 * Which of the files a batch target's agent changed are its tests, which are the code under
 * test, and which are leftovers of running things (caches, coverage data, installed packages).
 * Only tests are kept by default; source changes only when the job allows touching the source,
 * since an agent that "fixes" the code to make its test pass has not tested that code.
 */

/** Folders whose content tools write when tests run: never part of a target's result. */
const IGNORED_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  '.vite',
  '__pycache__',
  '.pytest_cache',
  'coverage',
  '.nyc_output',
  '.git',
]);

/** Files that tools leave at the root of a run: pytest-cov's data file. */
const IGNORED_NAMES: ReadonlySet<string> = new Set(['.coverage']);

/** Folders of tests, whatever their files are called. */
const TEST_DIRS: ReadonlySet<string> = new Set(['test', 'tests', '__tests__']);

export type FileKind = 'test' | 'source' | 'ignored';

/** The kind of one changed path; `testFile` is the test the target's prompt asked for. */
export function fileKind(path: string, testFile?: string): FileKind {
  const segments = path.split('/');
  const name = segments.at(-1) ?? '';
  const dirs = segments.slice(0, -1);
  if (dirs.some((d) => IGNORED_DIRS.has(d)) || IGNORED_NAMES.has(name)) return 'ignored';
  if (name.endsWith('.pyc')) return 'ignored';
  if (path === testFile) return 'test';
  if (dirs.some((d) => TEST_DIRS.has(d))) return 'test';
  if (
    /\.(test|spec)\.[^/]+$/.test(name) ||
    /^test_.*\.py$/.test(name) ||
    /_test\.(py|go)$/.test(name) ||
    name === 'conftest.py'
  ) {
    return 'test';
  }
  return 'source';
}

export type ClassifiedPaths = {
  /** Tests the agent wrote or changed: always kept. */
  tests: string[];
  /** Changes to the project's own code: kept only when the job allows it. */
  sources: string[];
  /** Caches and run artefacts: never kept. */
  ignored: string[];
};

export function classifyPaths(paths: readonly string[], testFile?: string): ClassifiedPaths {
  const out: ClassifiedPaths = { tests: [], sources: [], ignored: [] };
  for (const path of paths) {
    const kind = fileKind(path, testFile);
    if (kind === 'test') out.tests.push(path);
    else if (kind === 'source') out.sources.push(path);
    else out.ignored.push(path);
  }
  return out;
}

export type KeptPaths = {
  /** What goes into the verification run and the result. */
  tests: string[];
  sources: string[];
  /** Source changes left out because the job does not allow them. */
  dropped: string[];
};

export function keptPaths(classified: ClassifiedPaths, allowTouchingSource: boolean): KeptPaths {
  return allowTouchingSource
    ? { tests: classified.tests, sources: classified.sources, dropped: [] }
    : { tests: classified.tests, sources: [], dropped: classified.sources };
}
