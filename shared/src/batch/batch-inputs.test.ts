import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareBatchInputs } from './batch-inputs.ts';
import { parseBatchJobRequest } from './batch-job-request.ts';
import { makeTar, type TestTarEntry } from './tar-test-kit.ts';

// From a submitted job to the prompts of its agents, and the bad inputs of issue 8, each
// refused with a clear code.

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'tern-batch-inputs-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const project: TestTarEntry[] = [
  { type: 'file', path: 'package.json', content: '{"devDependencies":{"vitest":"^4.0.0"}}' },
  {
    type: 'file',
    path: 'src/math.ts',
    content:
      'export function add(a: number, b: number) {\n  return a + b;\n}\nexport const neg = (a: number) => -a;\n',
  },
  { type: 'file', path: 'src/math.test.ts', content: "test('old', () => {});\n" },
  { type: 'file', path: 'node_modules/dep/index.js', content: 'export function dep() {}\n' },
];

const job = (extra: Record<string, unknown> = {}, entries = project) =>
  parseBatchJobRequest({
    source: { kind: 'tarball', base64: makeTar(entries, { gzip: true }).toString('base64') },
    targets: { globs: ['**/*.ts', '**/*.js'], functions: true },
    ...extra,
  });

const prepare = (request: ReturnType<typeof job>, allowedRoots: string[] = []) =>
  prepareBatchInputs(request, { unpackTo: join(work, 'snapshot'), allowedRoots });

describe('prepareBatchInputs', () => {
  it('unpacks the snapshot, detects vitest, finds the exported functions and renders their prompts', async () => {
    const prepared = await prepare(job());
    expect(prepared.framework).toEqual({
      framework: 'vitest',
      command: 'npx vitest run',
      source: 'detected',
      evidence: 'package.json depends on vitest',
    });
    expect(prepared.targets.map((t) => t.id)).toEqual(['src/math.ts#add', 'src/math.ts#neg']);
    expect(prepared.skipped.map((s) => s.file)).toEqual([
      'node_modules/dep/index.js',
      'src/math.test.ts',
    ]);
    const prompt = await prepared.promptFor(prepared.targets[0]!);
    expect(prompt).toContain('Write vitest tests for function add in src/math.ts.');
    expect(prompt).toContain('src/math.add.test.ts');
  });

  it('reads a server directory in place, with the source in a custom prompt', async () => {
    const repo = join(work, 'repos/py');
    await mkdir(join(repo, 'calc'), { recursive: true });
    await writeFile(join(repo, 'pytest.ini'), '[pytest]\n');
    await writeFile(join(repo, 'calc/ops.py'), 'def mul(a, b):\n    return a * b\n');
    const prepared = await prepare(
      parseBatchJobRequest({
        source: { kind: 'directory', path: repo },
        targets: { functionTargets: [{ file: 'calc/ops.py', name: 'mul' }] },
        promptTemplate: 'Test {{function}} ({{framework}}, {{testFile}}):\n{{source}}',
      }),
      [join(work, 'repos')],
    );
    expect(await prepared.promptFor(prepared.targets[0]!)).toBe(
      'Test mul (pytest, tests/test_calc_ops_mul.py):\ndef mul(a, b):\n    return a * b\n',
    );
  });
});

describe('bad inputs', () => {
  it('a missing repository', async () => {
    await expect(
      prepare(
        parseBatchJobRequest({
          source: { kind: 'directory', path: join(work, 'repos/none') },
          targets: { globs: ['**'] },
        }),
        [join(work, 'repos')],
      ),
    ).rejects.toMatchObject({ code: 'snapshot_not_found', status: 400 });
    expect(() => parseBatchJobRequest({ targets: { globs: ['**'] } })).toThrow(
      expect.objectContaining({ code: 'missing_source', status: 400 }),
    );
  });

  it('an unknown framework, and none to be found', async () => {
    expect(() => job({ framework: 'mocha' })).toThrow(
      expect.objectContaining({ code: 'unknown_framework', status: 400 }),
    );
    await expect(prepare(job({}, project.slice(1)))).rejects.toMatchObject({
      code: 'framework_undetected',
      status: 422,
    });
  });

  it('an empty target list, given or found', async () => {
    expect(() => job({ targets: { globs: [] } })).toThrow(
      expect.objectContaining({ code: 'no_targets' }),
    );
    await expect(prepare(job({ targets: { globs: ['lib/**'] } }))).rejects.toMatchObject({
      code: 'no_targets',
      status: 400,
    });
  });

  it('a tarball with paths escaping the workspace', async () => {
    const escaping = [
      ...project,
      { type: 'file' as const, path: '../../evil.sh', content: 'rm -rf /' },
    ];
    await expect(prepare(job({}, escaping))).rejects.toMatchObject({
      code: 'snapshot_path_escape',
      status: 400,
    });
  });

  it('a symlink out of the workspace, in a tarball or a server directory', async () => {
    const linked = [
      ...project,
      { type: 'symlink' as const, path: 'src/secrets', target: '../../../etc' },
    ];
    await expect(prepare(job({}, linked))).rejects.toMatchObject({
      code: 'snapshot_symlink_escape',
    });
    const repo = join(work, 'repos/app');
    await mkdir(repo, { recursive: true });
    await symlink('/etc/passwd', join(repo, 'passwd'));
    await expect(
      prepare(
        parseBatchJobRequest({
          source: { kind: 'directory', path: repo },
          targets: { globs: ['**'] },
        }),
        [join(work, 'repos')],
      ),
    ).rejects.toMatchObject({ code: 'snapshot_symlink_escape' });
  });
});
