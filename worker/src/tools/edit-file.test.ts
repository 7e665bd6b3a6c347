import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editFileTool } from './edit-file.ts';

const context = { signal: new AbortController().signal, sessionId: 's' };
let root: string;
const file = () => join(root, 'app.ts');
const source = [
  'function add(a: number, b: number) {',
  '  return a + b;',
  '}',
  '',
  'function sub(a: number, b: number) {',
  '  return a - b;',
  '}',
  '',
].join('\n');

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tern-edit-')));
  await writeFile(file(), source);
});
afterEach(() => rm(root, { recursive: true, force: true }));

const edit = (args: Record<string, unknown>) =>
  editFileTool(() => root).execute({ path: 'app.ts', ...args }, context);

describe('edit_file', () => {
  it('replaces a unique exact match and says where', async () => {
    const result = await edit({ old_text: 'return a - b;', new_text: 'return a - b - 0;' });
    expect(result).toEqual({ ok: true, output: 'Edited app.ts: replaced 1 occurrence at line 6' });
    expect(await readFile(file(), 'utf8')).toContain('return a - b - 0;');
  });

  it('refuses an ambiguous match and lists the lines', async () => {
    const result = await edit({ old_text: '(a: number, b: number)', new_text: '(x: number)' });
    expect(result.ok).toBe(false);
    expect(result.output).toBe(
      'old_text appears 2 times in app.ts (at lines 1, 5); add surrounding context to make it unique, or set replace_all to change them all',
    );
    expect(await readFile(file(), 'utf8')).toBe(source);
  });

  it('replaces every occurrence with replace_all, $ patterns taken literally', async () => {
    const result = await edit({ old_text: 'number', new_text: '$&bigint', replace_all: true });
    expect(result.output).toBe('Edited app.ts: replaced 4 occurrences (first at line 1)');
    expect(await readFile(file(), 'utf8')).toContain('function add(a: $&bigint, b: $&bigint)');
  });

  it('explains a miss with the line count and the closest match', async () => {
    const result = await edit({ old_text: 'return a * b;', new_text: 'x' });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(
      /^old_text not found in app.ts; the file has 7 lines; closest match at line (2|6):\n {2}return a [+-] b;$/,
    );
  });

  it('points out a match that differs only in indentation', async () => {
    const result = await edit({
      old_text: 'function sub(a: number, b: number) {\n    return a - b;',
      new_text: 'x',
    });
    expect(result.output).toBe(
      'old_text not found in app.ts; the file has 7 lines; it matches at line 5 except for whitespace (indentation or line breaks differ). The file has:\nfunction sub(a: number, b: number) {\n  return a - b;',
    );
  });

  it('edits CRLF files when the model wrote LF', async () => {
    await writeFile(file(), 'a\r\nb\r\nc\r\n');
    const result = await edit({ old_text: 'a\nb', new_text: 'a\nB' });
    expect(result.ok).toBe(true);
    expect(await readFile(file(), 'utf8')).toBe('a\r\nB\r\nc\r\n');
  });

  it('refuses missing files, binary files and no-op edits', async () => {
    await writeFile(join(root, 'bin'), Buffer.from([1, 0, 2]));
    expect((await edit({ path: 'nope.ts', old_text: 'a', new_text: 'b' })).output).toMatch(
      /^No such file/,
    );
    expect((await edit({ path: 'bin', old_text: 'a', new_text: 'b' })).output).toMatch(
      /looks binary/,
    );
    expect((await edit({ old_text: 'a', new_text: 'a' })).output).toMatch(/identical/);
  });

  it('is declared not idempotent: a re-run could apply the edit twice', () => {
    expect(editFileTool(() => root).idempotent).toBe(false);
  });
});
