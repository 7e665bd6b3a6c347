import { batchError } from './batch-errors.ts';

export const TEST_FRAMEWORKS = ['vitest', 'jest', 'pytest', 'go'] as const;
export type TestFramework = (typeof TEST_FRAMEWORKS)[number];

/** How each framework runs when the job names no command: the project's own tools, offline. */
export const DEFAULT_TEST_COMMANDS: Readonly<Record<TestFramework, string>> = {
  vitest: 'npx vitest run',
  jest: 'npx jest',
  pytest: 'python3 -m pytest -q',
  go: 'go test ./...',
};

export type DetectedFramework = {
  framework: TestFramework;
  command: string;
  /** The file and what in it gave the framework away. */
  evidence: string;
};

/** Reads a file of the snapshot by its relative path; undefined when absent or unreadable. */
export type SnapshotReader = (path: string) => Promise<string | undefined>;

/**
 * The test frameworks a snapshot's root shows, most specific first:
 * - `package.json`: `vitest` or `jest` (or `ts-jest`) among its dependencies, or named by the
 *   `test` script. The command is the framework's own (`npx vitest run`), not `npm test`,
 *   whose script may watch, lint or build first.
 * - Python: `pytest.ini`, `[tool.pytest…]` in `pyproject.toml`, `[tool:pytest]` in `setup.cfg`,
 *   `[pytest]` in `tox.ini`, pytest in `pyproject.toml`/`requirements*.txt` dependencies, or a
 *   `conftest.py` anywhere.
 * - `go.mod`.
 */
export async function detectFrameworks(
  files: readonly string[],
  read: SnapshotReader,
): Promise<DetectedFramework[]> {
  const found: DetectedFramework[] = [];
  const has = new Set(files);

  const pkg = has.has('package.json') ? parseJson(await read('package.json')) : undefined;
  if (pkg) {
    const deps = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies };
    const script = typeof pkg.scripts?.test === 'string' ? pkg.scripts.test : '';
    for (const framework of ['vitest', 'jest'] as const) {
      const inDeps = framework in deps || (framework === 'jest' && 'ts-jest' in deps);
      const inScript = new RegExp(`\\b${framework}\\b`).test(script);
      if (!inDeps && !inScript) continue;
      found.push({
        framework,
        command: DEFAULT_TEST_COMMANDS[framework],
        evidence: inDeps ? `package.json depends on ${framework}` : `package.json's test script`,
      });
    }
  }

  const python = await detectPytest(files, has, read);
  if (python)
    found.push({ framework: 'pytest', command: DEFAULT_TEST_COMMANDS.pytest, evidence: python });
  if (has.has('go.mod')) {
    found.push({ framework: 'go', command: DEFAULT_TEST_COMMANDS.go, evidence: 'go.mod' });
  }
  return found;
}

async function detectPytest(
  files: readonly string[],
  has: Set<string>,
  read: SnapshotReader,
): Promise<string | undefined> {
  if (has.has('pytest.ini')) return 'pytest.ini';
  const sections: Array<[string, RegExp]> = [
    ['pyproject.toml', /^\[tool\.pytest/m],
    ['setup.cfg', /^\[tool:pytest\]/m],
    ['tox.ini', /^\[pytest\]/m],
    ['pyproject.toml', /["']pytest\b/],
  ];
  for (const [file, pattern] of sections) {
    if (has.has(file) && pattern.test((await read(file)) ?? '')) return file;
  }
  for (const file of files.filter((f) => /^requirements[\w.-]*\.txt$/.test(f))) {
    if (/^pytest\b/m.test((await read(file)) ?? '')) return file;
  }
  const conftest = files.find((f) => f === 'conftest.py' || f.endsWith('/conftest.py'));
  return conftest;
}

type PackageJson = {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  scripts?: Record<string, unknown>;
};

function parseJson(text: string | undefined): PackageJson | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as PackageJson) : undefined;
  } catch {
    return undefined;
  }
}

export type ResolvedFramework = {
  framework: TestFramework;
  command: string;
  /** Where it came from: the request, or what was detected. */
  source: 'request' | 'detected';
  evidence?: string;
};

/**
 * The framework and command a job runs with: what the request says, else the one framework
 * the snapshot shows. Detecting none, or several without the request choosing, is the
 * caller's error (`framework_undetected`, `framework_ambiguous`), with what was seen.
 */
export function resolveFramework(
  requested: { framework?: TestFramework; testCommand?: string },
  detected: readonly DetectedFramework[],
): ResolvedFramework {
  if (requested.framework) {
    const match = detected.find((d) => d.framework === requested.framework);
    return {
      framework: requested.framework,
      command: requested.testCommand ?? DEFAULT_TEST_COMMANDS[requested.framework],
      source: 'request',
      ...(match ? { evidence: match.evidence } : {}),
    };
  }
  const only = detected[0];
  if (detected.length === 1 && only) {
    return {
      framework: only.framework,
      command: requested.testCommand ?? only.command,
      source: 'detected',
      evidence: only.evidence,
    };
  }
  if (detected.length === 0) {
    throw batchError(
      'framework_undetected',
      `no test framework found (looked for vitest/jest in package.json, pytest configuration, go.mod): set framework to one of ${TEST_FRAMEWORKS.join(', ')}`,
    );
  }
  throw batchError(
    'framework_ambiguous',
    `several test frameworks found (${detected.map((d) => `${d.framework}: ${d.evidence}`).join('; ')}): set framework`,
    { detected: detected.map((d) => d.framework) },
  );
}
