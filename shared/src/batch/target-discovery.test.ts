import { describe, expect, it } from 'vitest';
import { discoverTargets, type TargetSpec, whyNotTarget } from './target-discovery.ts';

const repo: Record<string, string> = {
  'package.json': '{}',
  'src/math.ts':
    'export function add(a, b) { return a + b; }\nexport const sub = (a, b) => a - b;\n',
  'src/strings.ts': 'export class Slugger {}\nfunction local() {}\n',
  'src/types.d.ts': 'export function declared(): void;\n',
  'src/consts.ts': 'export const PI = 3.14;\n',
  'src/math.test.ts': 'test()',
  'src/__tests__/x.ts': '',
  'test/helpers.ts': 'export function helper() {}',
  'node_modules/lib/index.js': 'export function dep() {}',
  'vitest.config.ts': 'export default {}',
  'pkg/calc.py': 'def add(a, b):\n    return a + b\n',
  'pkg/test_calc.py': 'def test_add(): pass\n',
  'README.md': '# app',
};
const files = Object.keys(repo).sort();
const read = async (path: string) => repo[path];
const spec = (s: Partial<TargetSpec>): TargetSpec => ({
  globs: [],
  files: [],
  functions: false,
  functionTargets: [],
  exclude: [],
  maxTargets: 100,
  ...s,
});

describe('discoverTargets', () => {
  it('globs over the snapshot, leaving dependencies, configuration and the tests themselves out', async () => {
    const { targets, skipped } = await discoverTargets(
      files,
      spec({ globs: ['**/*'] }),
      read,
      'vitest',
    );
    expect(targets.map((t) => t.id)).toEqual(['src/consts.ts', 'src/math.ts', 'src/strings.ts']);
    expect(Object.fromEntries(skipped.map((s) => [s.file, s.reason]))).toEqual({
      'node_modules/lib/index.js': 'in node_modules/',
      'package.json': 'not source code',
      'pkg/calc.py': 'not vitest source',
      'pkg/test_calc.py': 'a test file',
      'README.md': 'not source code',
      'src/__tests__/x.ts': 'in a test folder',
      'src/math.test.ts': 'a test file',
      'src/types.d.ts': 'not source code',
      'test/helpers.ts': 'in a test folder',
      'vitest.config.ts': 'configuration',
    });
  });

  it('splits files into their exported functions and classes', async () => {
    const { targets, skipped } = await discoverTargets(
      files,
      spec({ globs: ['src/*.ts'], exclude: ['src/strings.ts'], functions: true }),
      read,
    );
    expect(targets).toEqual([
      { id: 'src/math.ts#add', file: 'src/math.ts', kind: 'function', name: 'add', line: 1 },
      { id: 'src/math.ts#sub', file: 'src/math.ts', kind: 'function', name: 'sub', line: 2 },
    ]);
    expect(skipped).toContainEqual({ file: 'src/consts.ts', reason: 'exports no function' });
  });

  it('takes explicit files and functions, even where a glob would skip them', async () => {
    const { targets } = await discoverTargets(
      files,
      spec({
        files: ['test/helpers.ts'],
        functionTargets: [
          { file: 'pkg/calc.py', name: 'add' },
          { file: 'src/strings.ts', name: 'Slugger' },
        ],
      }),
      read,
    );
    expect(targets.map((t) => `${t.id} ${t.kind}`)).toEqual([
      'pkg/calc.py#add function',
      'src/strings.ts#Slugger class',
      'test/helpers.ts file',
    ]);
  });

  it('refuses an empty target list with what it skipped', async () => {
    const error = await discoverTargets(files, spec({ globs: ['**/*.test.ts'] }), read).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'no_targets',
      status: 400,
      message: expect.stringContaining('src/math.test.ts: a test file'),
    });
    await expect(discoverTargets(files, spec({ globs: ['lib/**'] }), read)).rejects.toMatchObject({
      code: 'no_targets',
    });
  });

  it('refuses files and functions the snapshot does not have', async () => {
    await expect(
      discoverTargets(files, spec({ files: ['src/missing.ts'] }), read),
    ).rejects.toMatchObject({ code: 'target_not_found', details: { missing: ['src/missing.ts'] } });
    await expect(
      discoverTargets(
        files,
        spec({ functionTargets: [{ file: 'src/math.ts', name: 'mul' }] }),
        read,
      ),
    ).rejects.toMatchObject({
      code: 'target_not_found',
      message: 'src/math.ts exports no function or class named mul',
    });
  });

  it('refuses more targets than the job allows', async () => {
    await expect(
      discoverTargets(files, spec({ globs: ['src/*.ts'], maxTargets: 2 }), read),
    ).rejects.toMatchObject({ code: 'too_many_targets' });
  });
});

describe('whyNotTarget', () => {
  it('knows each framework’s test file conventions', () => {
    expect(whyNotTarget('calc/calc_test.go')).toBe('a test file');
    expect(whyNotTarget('pkg/calc_test.py')).toBe('a test file');
    expect(whyNotTarget('pkg/conftest.py')).toBe('a test file');
    expect(whyNotTarget('web/app.spec.tsx')).toBe('a test file');
    expect(whyNotTarget('pkg/__init__.py')).toBe('configuration');
    expect(whyNotTarget('vendor/x/y.go')).toBe('in vendor/');
    expect(whyNotTarget('calc/calc.go', 'go')).toBeUndefined();
    expect(whyNotTarget('calc/calc.go', 'pytest')).toBe('not pytest source');
  });
});
