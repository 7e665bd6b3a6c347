import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grepTool } from './grep-files.ts';

let root: string;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tern-grep-')));
  await mkdir(join(root, 'src'));
  await mkdir(join(root, 'node_modules'));
  await writeFile(join(root, 'src/a.ts'), 'const alpha = 1;\nconst beta = 2;\nexport { alpha };\n');
  await writeFile(join(root, 'src/b.md'), 'Alpha notes\n');
  await writeFile(join(root, 'node_modules/dep.ts'), 'const alpha = 3;\n');
  await writeFile(join(root, 'blob.bin'), Buffer.from('alpha\0alpha'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const run = (args: Record<string, unknown>, signal = new AbortController().signal) =>
  grepTool(() => root).execute(args, { signal, sessionId: 's' });

describe('grep', () => {
  it('answers path:line: text lines, skipping node_modules and binary files', async () => {
    expect(await run({ pattern: 'alpha' })).toEqual({
      ok: true,
      output:
        'src/a.ts:1: const alpha = 1;\nsrc/a.ts:3: export { alpha };\n[1 binary files not searched]',
    });
  });

  it('filters by glob and path, and ignores case on request', async () => {
    expect((await run({ pattern: 'alpha', glob: '*.md', ignore_case: true })).output).toBe(
      'src/b.md:1: Alpha notes',
    );
    expect((await run({ pattern: 'beta', path: 'src/a.ts' })).output).toBe(
      'src/a.ts:2: const beta = 2;',
    );
  });

  it('caps the number of results', async () => {
    const result = await run({ pattern: 'a', path: 'src', max_results: 2 });
    expect(result.output.split('\n')).toEqual([
      'src/a.ts:1: const alpha = 1;',
      'src/a.ts:2: const beta = 2;',
      '[stopped at 2 matches; narrow the search or raise max_results]',
    ]);
  });

  it('rejects invalid regexes and paths outside the workspace', async () => {
    expect((await run({ pattern: '(' })).output).toMatch(/^Invalid regular expression/);
    expect((await run({ pattern: 'root', path: '/etc/passwd' })).output).toMatch(
      /outside the workspace/,
    );
  });

  it('does not read through symlinks that leave the workspace', async () => {
    await symlink('/etc', join(root, 'etc-link'));
    await symlink('/etc/passwd', join(root, 'passwd-link'));
    expect((await run({ pattern: 'root' })).output).toMatch(/^No matches/);
  });

  it('stops a catastrophically backtracking regex on cancel without blocking the event loop', async () => {
    await writeFile(join(root, 'src/evil.txt'), `${'a'.repeat(40)}b\n`);
    const controller = new AbortController();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    setTimeout(() => controller.abort(), 300);
    const started = performance.now();
    const result = await run({ pattern: '^(a+)+$', path: 'src/evil.txt' }, controller.signal);
    clearInterval(ticker);
    expect(result).toEqual({ ok: false, output: 'grep was cancelled' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(ticks).toBeGreaterThan(5);
  });
});
