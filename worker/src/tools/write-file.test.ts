import { mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileTool } from './write-file.ts';

const context = { signal: new AbortController().signal, sessionId: 's' };
let root: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tern-write-')));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('write_file', () => {
  it('creates a file and its parent directories', async () => {
    const tool = writeFileTool(() => root);
    const result = await tool.execute({ path: 'src/deep/a.ts', content: 'one\ntwo\n' }, context);
    expect(result).toEqual({ ok: true, output: 'Created src/deep/a.ts (8 bytes, 2 lines)' });
    expect(await readFile(join(root, 'src/deep/a.ts'), 'utf8')).toBe('one\ntwo\n');
  });

  it('overwrites, and writing the same content again leaves the same file', async () => {
    const tool = writeFileTool(() => root);
    await writeFile(join(root, 'a.txt'), 'old');
    const first = await tool.execute({ path: 'a.txt', content: 'new' }, context);
    const second = await tool.execute({ path: 'a.txt', content: 'new' }, context);
    expect(first.output).toMatch(/^Overwrote a.txt/);
    expect(second.ok).toBe(true);
    expect(await readFile(join(root, 'a.txt'), 'utf8')).toBe('new');
    expect(tool.idempotent).toBe(true);
  });

  it('refuses paths outside the workspace, including through a symlink', async () => {
    const tool = writeFileTool(() => root);
    await symlink('/tmp', join(root, 'tmp-link'));
    const up = await tool.execute({ path: '../escape.txt', content: 'x' }, context);
    const linked = await tool.execute({ path: 'tmp-link/escape.txt', content: 'x' }, context);
    expect(up).toEqual({ ok: false, output: '../escape.txt is outside the workspace' });
    expect(linked).toEqual({
      ok: false,
      output: 'tmp-link/escape.txt links outside the workspace',
    });
  });

  it('refuses to write over a directory or below a file', async () => {
    const tool = writeFileTool(() => root);
    await writeFile(join(root, 'file'), 'x');
    expect((await tool.execute({ path: '.', content: 'x' }, context)).output).toBe(
      '. is a directory',
    );
    expect((await tool.execute({ path: 'file/below', content: 'x' }, context)).output).toMatch(
      /a parent of it is a file/,
    );
  });

  it('reports invalid arguments', async () => {
    const result = await writeFileTool(() => root).execute({ path: 'a' }, context);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/Invalid arguments for write_file: content/);
  });
});
