import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './unified-diff.ts';

describe('unifiedDiff', () => {
  it('diffs a new file against /dev/null', () => {
    expect(unifiedDiff('src/a.test.ts', null, 'one\ntwo\n')).toBe(
      [
        'diff --git a/src/a.test.ts b/src/a.test.ts',
        'new file mode 100644',
        '--- /dev/null',
        '+++ b/src/a.test.ts',
        '@@ -0,0 +1,2 @@',
        '+one',
        '+two',
        '',
      ].join('\n'),
    );
  });

  it('keeps three lines of context and merges nearby changes into one hunk', () => {
    const before = `${Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;
    const after = before
      .replace('line 5\n', 'line five\n')
      .replace('line 7\n', '')
      .replace('line 18\n', 'line 18\nadded\n');
    expect(unifiedDiff('f.txt', before, after)).toBe(
      [
        'diff --git a/f.txt b/f.txt',
        '--- a/f.txt',
        '+++ b/f.txt',
        '@@ -2,9 +2,8 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        '-line 7',
        ' line 8',
        ' line 9',
        ' line 10',
        '@@ -16,5 +15,6 @@',
        ' line 16',
        ' line 17',
        ' line 18',
        '+added',
        ' line 19',
        ' line 20',
        '',
      ].join('\n'),
    );
  });

  it('marks a missing newline at the end, and diffs a deleted file', () => {
    expect(unifiedDiff('x', 'a\nb', 'a\nb\n')).toBe(
      [
        'diff --git a/x b/x',
        '--- a/x',
        '+++ b/x',
        '@@ -1,2 +1,2 @@',
        ' a',
        '-b',
        '\\ No newline at end of file',
        '+b',
        '',
      ].join('\n'),
    );
    expect(unifiedDiff('x', 'gone\n', null)).toBe(
      [
        'diff --git a/x b/x',
        'deleted file mode 100644',
        '--- a/x',
        '+++ /dev/null',
        '@@ -1 +0,0 @@',
        '-gone',
        '',
      ].join('\n'),
    );
    expect(unifiedDiff('x', 'same\n', 'same\n')).toBe('');
  });

  it('produces patches git applies to the byte, over many random edits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tern-diff-'));
    try {
      let seed = 7;
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const words = ['a', 'b', 'c', 'd', 'e', ''];
      const text = (lines: number) => {
        const out = Array.from({ length: lines }, () => words[Math.floor(random() * words.length)]);
        return out.join('\n') + (random() < 0.8 ? '\n' : '');
      };
      for (let round = 0; round < 40; round++) {
        const before = text(Math.floor(random() * 30));
        const lines = before.split('\n');
        for (let e = 0; e < 1 + Math.floor(random() * 6); e++) {
          const at = Math.floor(random() * (lines.length + 1));
          if (random() < 0.5) lines.splice(at, 1);
          else lines.splice(at, 0, `new ${round} ${e}`);
        }
        const after = lines.join('\n');
        if (after === before || before === '') continue;
        writeFileSync(join(dir, 'f.txt'), before);
        writeFileSync(join(dir, 'p.diff'), unifiedDiff('f.txt', before, after));
        const applied = spawnSync('git', ['apply', '--unsafe-paths', 'p.diff'], {
          cwd: dir,
          encoding: 'utf8',
        });
        expect(applied.status, `${applied.stderr}\n${JSON.stringify({ before, after })}`).toBe(0);
        expect(readFileSync(join(dir, 'f.txt'), 'utf8')).toBe(after);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
