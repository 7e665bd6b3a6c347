import { describe, expect, it } from 'vitest';
import { findExportedFunctions, languageOf } from './exported-functions.ts';
import { blankJs, blankPython } from './source-blanking.ts';

const names = (path: string, source: string) =>
  findExportedFunctions(path, source).map((f) => `${f.kind} ${f.name}@${f.line}`);

describe('TypeScript and JavaScript', () => {
  it('finds exported declarations, arrows, classes and export lists, with their lines', () => {
    const source = [
      "import { x } from './x';", // 1
      'export function add(a: number, b: number): number {', // 2
      '  return a + b;',
      '}',
      'export async function* stream() {}', // 5
      'export const mul = (a: number, b: number) => a * b;', // 6
      'export const parse: Parser = async (text) => JSON.parse(text);', // 7
      'export const id = <T,>(v: T) => v;', // 8
      'export const VERSION = "1.0";', // 9: a constant, not a function
      'export default class Calculator {}', // 10
      'function helper() {}', // 11
      'const inner = function () {};', // 12
      'class Local {}', // 13
      'export {', // 14
      '  helper,',
      '  inner as outer,',
      '  Local,',
      '  VERSION,', // not a function: left out
      '};',
      "export { remote } from './remote';", // a re-export: not this file's code
      '  export function indented() {}', // not at column 0: inside something
    ].join('\n');
    expect(names('src/math.ts', source)).toEqual([
      'function add@2',
      'function stream@5',
      'function mul@6',
      'function parse@7',
      'function id@8',
      'class Calculator@10',
      'function helper@11',
      'function outer@12',
      'class Local@13',
    ]);
  });

  it('ignores declarations inside comments, strings, templates and regexes', () => {
    const source = [
      '/*',
      'export function commented() {}',
      '*/',
      'const doc = `',
      'export function templated() {}',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      '${"}"}',
      'export function stillTemplated() {}`;',
      "const re = /export function notReal\\(/g; const s = 'it\\'s';",
      'export function real() {}',
      '// export function lineComment() {}',
    ].join('\n');
    expect(names('a.js', source)).toEqual(['function real@9']);
    expect(blankJs(source).split('\n')).toHaveLength(10);
  });

  it('reads CommonJS exports', () => {
    const source = [
      'function a() {}',
      'const b = () => 1;',
      'exports.c = function () {};',
      'module.exports.d = async (x) => x;',
      'module.exports = { a, renamed: b };',
    ].join('\n');
    expect(names('lib.cjs', source)).toEqual([
      'function a@1',
      'function renamed@2',
      'function c@3',
      'function d@4',
    ]);
  });

  it('names an anonymous default export "default"', () => {
    expect(names('a.mjs', 'export default async function () {}')).toEqual(['function default@1']);
  });
});

describe('Python', () => {
  it('finds public top-level defs and classes, not nested ones nor those in docstrings', () => {
    const source = [
      '"""Module docs.', // 1
      'def in_docstring():',
      '"""',
      'import os',
      'def add(a, b):', // 5
      '    def nested():',
      '        pass',
      '    return a + b',
      'async def fetch(url):', // 9
      '    pass',
      'def _private():', // 11
      '    pass',
      'class Parser:', // 13
      '    def method(self):',
      '        pass',
      "x = 'def in_string(): pass'",
    ].join('\n');
    expect(names('pkg/mod.py', source)).toEqual([
      'function add@5',
      'function fetch@9',
      'class Parser@13',
    ]);
    expect(blankPython(source).split('\n')).toHaveLength(16);
  });

  it('keeps to __all__ when the module sets it', () => {
    const source = [
      '__all__ = [',
      '    "b",',
      "    '_c',",
      ']',
      'def a(): pass',
      'def b(): pass',
      'def _c(): pass',
    ].join('\n');
    expect(names('m.py', source)).toEqual(['function b@6', 'function _c@7']);
  });
});

describe('Go', () => {
  it('finds exported functions and methods', () => {
    const source = [
      'package calc',
      'func Add(a, b int) int { return a + b }',
      'func helper() {}',
      'func (c *Calc) Sum(xs []int) int { return 0 }',
      'func (c Calc) reset() {}',
      'func Map[T any](xs []T) []T { return xs }',
      '// func Commented() {}',
      'var s = "func Quoted() {}"',
    ].join('\n');
    expect(names('calc/calc.go', source)).toEqual([
      'function Add@2',
      'method Calc.Sum@4',
      'function Map@6',
    ]);
  });
});

describe('languageOf', () => {
  it('knows source files and leaves declaration files out', () => {
    expect(
      ['a.ts', 'a.tsx', 'a.mts', 'a.js', 'a.cjs', 'a.py', 'a.go', 'a.d.ts', 'a.rs'].map(languageOf),
    ).toEqual([
      'typescript',
      'typescript',
      'typescript',
      'javascript',
      'javascript',
      'python',
      'go',
      undefined,
      undefined,
    ]);
  });
});
