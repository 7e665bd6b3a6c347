import { blankGo, blankJs, blankPython } from './source-blanking.ts';

/**
 * The functions (and classes) a file offers to its users, found by simple parsing rather than a
 * compiler, so that a batch job can target them one by one in any repository, whatever its
 * build. Comments and strings are blanked first (`source-blanking.ts`), then declarations are
 * read line by line **at column 0**, which is where a formatter puts top-level code:
 *
 * - TypeScript/JavaScript: `export [default] [async] function name`, `export const name =` an
 *   arrow function or function expression, `export [default] [abstract] class Name`,
 *   `export { a, b as c }` of local functions or classes, an anonymous `export default
 *   function` (named `default`), and CommonJS `module.exports = { a, b }` / `exports.name =`.
 *   Not seen: re-exports from other files (`export … from`), functions built by calls
 *   (`export const f = wrap(g)`), declarations inside namespaces.
 * - Python: top-level `def` / `async def` / `class` whose name does not start with `_`; when the
 *   module sets `__all__ = [...]`, only the names listed there.
 * - Go: exported (capitalised) functions, and exported methods as `Type.Method`.
 */

export type FoundFunction = { name: string; line: number; kind: 'function' | 'class' | 'method' };

export type SourceLanguage = 'typescript' | 'javascript' | 'python' | 'go';

export function languageOf(path: string): SourceLanguage | undefined {
  if (/\.d\.[cm]?ts$/.test(path)) return undefined;
  if (/\.[cm]?tsx?$/.test(path)) return 'typescript';
  if (/\.[cm]?jsx?$/.test(path)) return 'javascript';
  if (path.endsWith('.py')) return 'python';
  if (path.endsWith('.go')) return 'go';
  return undefined;
}

export function findExportedFunctions(path: string, source: string): FoundFunction[] {
  const language = languageOf(path);
  if (language === 'python') return findPython(source, blankPython(source));
  if (language === 'go') return findGo(blankGo(source));
  if (language) return findJs(blankJs(source));
  return [];
}

const ID = '[A-Za-z_$][\\w$]*';
/** What follows `=` when the value is a function: `function`, `(…) =>`, `x =>`, `<T>(…) =>`. */
const FUNCTION_VALUE = `(?:async\\s+)?(?:function\\b|\\(|${ID}\\s*=>|<)`;

const JS_PATTERNS: Array<{ re: RegExp; kind: FoundFunction['kind'] }> = [
  {
    re: new RegExp(`^export\\s+(?:default\\s+)?(?:async\\s+)?function\\s*\\*?\\s*(${ID})`),
    kind: 'function',
  },
  {
    re: new RegExp(`^export\\s+(?:const|let|var)\\s+(${ID})\\s*(?::[^=]*)?=\\s*${FUNCTION_VALUE}`),
    kind: 'function',
  },
  { re: new RegExp(`^export\\s+(?:default\\s+)?(?:abstract\\s+)?class\\s+(${ID})`), kind: 'class' },
  {
    re: new RegExp(`^(?:module\\.)?exports\\.(${ID})\\s*=\\s*${FUNCTION_VALUE}`),
    kind: 'function',
  },
];

function findJs(code: string): FoundFunction[] {
  const lines = code.split('\n');
  const found: FoundFunction[] = [];
  // Local declarations, for `export { … }` lists and `module.exports = { … }`.
  const locals = new Map<string, { line: number; kind: FoundFunction['kind'] }>();
  const localFunction = new RegExp(`^(?:async\\s+)?function\\s*\\*?\\s*(${ID})`);
  const localConst = new RegExp(
    `^(?:const|let|var)\\s+(${ID})\\s*(?::[^=]*)?=\\s*${FUNCTION_VALUE}`,
  );
  const localClass = new RegExp(`^(?:abstract\\s+)?class\\s+(${ID})`);
  const lists: Array<{ body: string; line: number; commonJs: boolean }> = [];
  lines.forEach((text, i) => {
    const line = i + 1;
    for (const { re, kind } of JS_PATTERNS) {
      const name = re.exec(text)?.[1];
      if (name) {
        found.push({ name, line, kind });
        return;
      }
    }
    if (/^export\s+default\s+(?:async\s+)?(?:function\s*\*?\s*)?\(/.test(text)) {
      found.push({ name: 'default', line, kind: 'function' });
      return;
    }
    const fn = localFunction.exec(text)?.[1] ?? localConst.exec(text)?.[1];
    if (fn) locals.set(fn, { line, kind: 'function' });
    const cls = localClass.exec(text)?.[1];
    if (cls) locals.set(cls, { line, kind: 'class' });
    // `export { a, b as c }` may span lines: gather up to the closing brace.
    const list = /^(export|module\.exports\s*=)\s*\{/.exec(text);
    if (list) {
      const rest = lines.slice(i).join('\n');
      const body = rest.slice(rest.indexOf('{') + 1, rest.indexOf('}'));
      const tail = rest.slice(rest.indexOf('}') + 1);
      if (list[1] === 'export' && /^\s*from\b/.test(tail)) return; // a re-export
      lists.push({ body, line, commonJs: list[1] !== 'export' });
    }
  });
  for (const { body, commonJs } of lists) {
    for (const item of body.split(',')) {
      const parts = item.trim().split(commonJs ? /\s*:\s*/ : /\s+as\s+/);
      const local = (commonJs ? (parts[1] ?? parts[0]) : parts[0])?.trim();
      const exported = (commonJs ? parts[0] : (parts[1] ?? parts[0]))?.trim();
      const declared = local ? locals.get(local) : undefined;
      if (!exported || !declared || found.some((f) => f.name === exported)) continue;
      found.push({ name: exported, line: declared.line, kind: declared.kind });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

function findPython(source: string, code: string): FoundFunction[] {
  const found: FoundFunction[] = [];
  let all: Set<string> | undefined;
  const lines = code.split('\n');
  lines.forEach((text, i) => {
    const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/.exec(text)?.[1];
    const cls = /^class\s+([A-Za-z_]\w*)/.exec(text)?.[1];
    if (def) found.push({ name: def, line: i + 1, kind: 'function' });
    if (cls) found.push({ name: cls, line: i + 1, kind: 'class' });
    if (/^__all__\s*(?::[^=]*)?=\s*[[(]/.test(text)) {
      // The names are strings, which blanking removed: read them from the source itself, from
      // this line to the closing bracket.
      const rest = source.split('\n').slice(i).join('\n');
      const open = rest.search(/[[(]/);
      const close = rest.slice(open).search(/[\])]/);
      const body = close === -1 ? '' : rest.slice(open, open + close);
      all = new Set([...body.matchAll(/['"]([A-Za-z_]\w*)['"]/g)].map((m) => m[1]!));
    }
  });
  const listed = all;
  return found.filter((f) => (listed ? listed.has(f.name) : !f.name.startsWith('_')));
}

function findGo(code: string): FoundFunction[] {
  const found: FoundFunction[] = [];
  code.split('\n').forEach((text, i) => {
    const fn = /^func\s+([A-Z]\w*)\s*[[(]/.exec(text)?.[1];
    if (fn) found.push({ name: fn, line: i + 1, kind: 'function' });
    const method =
      /^func\s*\(\s*\w*\s*\*?\s*([A-Za-z_]\w*)(?:\[[^\]]*\])?\s*\)\s*([A-Z]\w*)\s*[[(]/.exec(text);
    if (method) found.push({ name: `${method[1]}.${method[2]}`, line: i + 1, kind: 'method' });
  });
  return found;
}
