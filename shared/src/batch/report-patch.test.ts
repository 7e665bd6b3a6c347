import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BatchResult } from './batch-result.ts';
import { sampleResult } from './report-fixtures.ts';
import { writeBatchPatch } from './report-patch.ts';

describe('writeBatchPatch', () => {
  it('holds the passing targets’ tests, new files against /dev/null', () => {
    const { patch, files, conflicts } = writeBatchPatch(sampleResult());
    expect(files).toEqual(['src/math.add.test.ts']);
    expect(conflicts).toEqual([]);
    expect(patch).toBe(
      [
        'diff --git a/src/math.add.test.ts b/src/math.add.test.ts',
        'new file mode 100644',
        '--- /dev/null',
        '+++ b/src/math.add.test.ts',
        '@@ -0,0 +1,2 @@',
        "+import { add } from './math';",
        "+test('adds', () => expect(add(1, 2)).toBe(3));",
        '',
      ].join('\n'),
    );
    expect(writeBatchPatch(sampleResult(), { statuses: ['passed', 'failed'] }).files).toEqual([
      'src/math.add.test.ts',
      'src/math.div.test.ts',
    ]);
  });

  it('applies with git to the snapshot: new tests, an extended test file and an allowed fix', () => {
    const result: BatchResult = {
      ...sampleResult(),
      targets: [
        {
          ...sampleResult().targets[0]!,
          testFiles: [
            { path: 'src/math.add.test.ts', content: 'new test\n', original: null },
            { path: 'test/shared.test.ts', content: 'one\ntwo\nthree\n', original: 'one\nthree\n' },
          ],
          sourceFiles: [{ path: 'src/math.ts', content: 'fixed\n', original: 'buggy\n' }],
        },
        {
          ...sampleResult().targets[0]!,
          target: { id: 'src/other.ts', file: 'src/other.ts' },
          // Wrote another target's file differently: reported, first version kept.
          testFiles: [{ path: 'src/math.add.test.ts', content: 'other\n', original: null }],
        },
      ],
    };
    const { patch, files, conflicts } = writeBatchPatch(result);
    expect(files).toEqual(['src/math.add.test.ts', 'src/math.ts', 'test/shared.test.ts']);
    expect(conflicts).toEqual([
      { path: 'src/math.add.test.ts', targets: ['src/math.ts#add', 'src/other.ts'] },
    ]);

    const repo = mkdtempSync(join(tmpdir(), 'tern-patch-'));
    try {
      mkdirSync(join(repo, 'src'));
      mkdirSync(join(repo, 'test'));
      writeFileSync(join(repo, 'src/math.ts'), 'buggy\n');
      writeFileSync(join(repo, 'test/shared.test.ts'), 'one\nthree\n');
      writeFileSync(join(repo, 'batch.patch'), patch);
      const applied = spawnSync('git', ['apply', 'batch.patch'], { cwd: repo, encoding: 'utf8' });
      expect(applied.status, applied.stderr).toBe(0);
      expect(readFileSync(join(repo, 'src/math.add.test.ts'), 'utf8')).toBe('new test\n');
      expect(readFileSync(join(repo, 'src/math.ts'), 'utf8')).toBe('fixed\n');
      expect(readFileSync(join(repo, 'test/shared.test.ts'), 'utf8')).toBe('one\ntwo\nthree\n');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
