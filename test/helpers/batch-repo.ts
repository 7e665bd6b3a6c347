import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tarDirectory } from '@tern/shared/batch/tar-writer';

/** Tern's own checkout: its node_modules lends the batch repository a test runner. */
export const ternRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
export const ternNodeModules = join(ternRoot, 'node_modules');

/**
 * The repository's vitest command: Tern's own install, run on the repository. vitest resolves
 * `import … from 'vitest'` from its own install, so the repository needs no node_modules; the
 * sandbox sees this folder through TERN_SANDBOX_READONLY_PATHS.
 */
export const vitestCommand = `${ternNodeModules}/.bin/vitest run`;

export const pytestCommand = 'python3 -m pytest -q';

/**
 * Whether the sandbox can run pytest: it sees /usr only, so the system Python must have it
 * (Debian `python3-pytest`), whatever python3 comes first on the host's PATH.
 */
export const sandboxHasPytest: boolean =
  spawnSync('/usr/bin/python3', ['-c', 'import pytest'], { stdio: 'ignore' }).status === 0;

/** The code under test, as the batch tests and their scripted agents know it. */
export const MATH_TS = `/** Small numeric helpers. */
export function add(a: number, b: number): number {
  return a + b;
}

export function clamp(value: number, min: number, max: number): number {
  if (min > max) throw new RangeError('min is above max');
  return Math.min(Math.max(value, min), max);
}

export function mean(values: number[]): number {
  if (values.length === 0) throw new RangeError('mean of nothing');
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
`;

export const STRINGS_TS = `/** A URL-safe form of a title: lower case, words joined by dashes. */
export function slugify(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
`;

export const STATS_PY = `"""Statistics over plain lists."""


def median(values):
    """The middle value of a non-empty list of numbers."""
    if not values:
        raise ValueError("median of an empty list")
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2
`;

export type BatchRepo = {
  /** Absolute path of the repository (readable by the sandbox's uid). */
  dir: string;
  /** Relative path → content, as written. */
  files: Record<string, string>;
  /** Whether the Python module is in it (pytest available to the sandbox). */
  python: boolean;
  /** The repository as a gzipped tar archive in base64, for `source: {kind: 'tarball'}`. */
  tarballBase64(): Promise<string>;
  /** A fresh copy of the repository, for applying a patch to. */
  copy(): string;
  remove(): void;
};

/**
 * Writes a small real repository into a temporary folder: a TypeScript package tested with
 * vitest (`src/math.ts`: add, clamp, mean; `src/strings.ts`: slugify) and, when the sandbox can
 * run pytest, a Python module (`stats.py`: median) with a pytest.ini. No tests yet: writing
 * them is the batch's job.
 */
export function writeBatchRepo(options: { python?: boolean } = {}): BatchRepo {
  const python = options.python ?? sandboxHasPytest;
  const files: Record<string, string> = {
    'package.json': packageJson('calc-kit'),
    'src/math.ts': MATH_TS,
    'src/strings.ts': STRINGS_TS,
    'README.md': '# calc-kit\n\nNumeric and string helpers.\n',
  };
  if (python) {
    files['stats.py'] = STATS_PY;
    // `pythonpath = .` lets tests under tests/ import the module from the root.
    files['pytest.ini'] = '[pytest]\npythonpath = .\n';
  }
  return writeRepo(files, python);
}

/**
 * A vitest package of `count` one-line exported functions `f0`, `f1`, … spread over files of
 * `perFile` (`src/mod0.ts`, `src/mod1.ts`, …): as many batch targets as wanted, each cheap.
 */
export function writeManyFunctionsRepo(count: number, perFile = 50): BatchRepo {
  const files: Record<string, string> = { 'package.json': packageJson('many-functions') };
  for (let first = 0; first < count; first += perFile) {
    const names = Array.from({ length: Math.min(perFile, count - first) }, (_, i) => first + i);
    files[`src/mod${first / perFile}.ts`] = names
      .map((n) => `export function f${n}(x: number): number {\n  return x + ${n};\n}\n`)
      .join('\n');
  }
  return writeRepo(files, false);
}

function packageJson(name: string): string {
  const pkg = {
    name,
    version: '1.0.0',
    private: true,
    type: 'module',
    scripts: { test: 'vitest run' },
    devDependencies: { vitest: '^4.0.0' },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function writeRepo(files: Record<string, string>, python: boolean): BatchRepo {
  const dir = writeTree(files);
  return {
    dir,
    files,
    python,
    // The archive the CLI would send: the production writer's.
    tarballBase64: async () => (await tarDirectory(dir)).archive.toString('base64'),
    copy: () => writeTree(files),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tern-batch-repo-'));
  // mkdtemp makes 0700 folders; a sandboxed command runs as an unprivileged uid.
  chmodSync(dir, 0o755);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}
