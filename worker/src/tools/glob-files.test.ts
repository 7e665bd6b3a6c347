import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { globTool } from './glob-files.ts';

const context = { signal: new AbortController().signal, sessionId: 's' };
let root: string;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tern-glob-')));
  for (const path of [
    'src/a.ts',
    'src/lib/b.ts',
    'src/lib/c.js',
    'node_modules/x/index.ts',
    '.git/HEAD',
  ]) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), '');
  }
});
afterEach(() => rm(root, { recursive: true, force: true }));

const run = (args: Record<string, unknown>) => globTool(() => root).execute(args, context);

describe('glob', () => {
  it('finds files by pattern, sorted, skipping node_modules and .git', async () => {
    expect(await run({ pattern: '**/*.ts' })).toEqual({
      ok: true,
      output: 'src/a.ts\nsrc/lib/b.ts',
    });
    expect((await run({ pattern: '*', path: 'src/lib' })).output).toBe(
      'src/lib/b.ts\nsrc/lib/c.js',
    );
  });

  it('searches node_modules when the pattern names it', async () => {
    expect((await run({ pattern: 'node_modules/**/*.ts' })).output).toBe('node_modules/x/index.ts');
  });

  it('refuses patterns that leave the workspace', async () => {
    expect((await run({ pattern: '../*' })).ok).toBe(false);
    expect((await run({ pattern: '/etc/*' })).ok).toBe(false);
    expect((await run({ pattern: '*', path: '..' })).output).toMatch(/outside the workspace/);
  });

  it('does not list what a symlink out of the workspace leads to', async () => {
    await symlink('/etc', join(root, 'etc-link'));
    expect((await run({ pattern: 'etc-link/*' })).output).toBe('No files match etc-link/*');
    expect((await run({ pattern: '**/passwd' })).output).toBe('No files match **/passwd');
  });
});
