/**
 * Replaces the text of comments and string literals with spaces, newlines kept, so that a
 * line-based scan for declarations (`exported-functions.ts`) neither finds a `def` inside a
 * docstring nor loses its place in the file. A small scanner per language family, not a parser:
 * it knows quotes, comments, template literals with `${…}` and, for JavaScript, regular
 * expression literals by the usual rule (a `/` where a value cannot end is a regex).
 */

const blank = (text: string) => text.replace(/[^\n]/g, ' ');

/** JavaScript and TypeScript. */
export function blankJs(source: string): string {
  let out = '';
  let i = 0;
  // Open template literals and the brace depth of each `${` expression inside them.
  const templates: number[] = [];
  let inTemplate = false;
  let lastSignificant = '';
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (inTemplate) {
      if (c === '\\') {
        out += blank(source.slice(i, i + 2));
        i += 2;
      } else if (c === '`') {
        inTemplate = false;
        out += c;
        i++;
        lastSignificant = '`';
      } else if (c === '$' && next === '{') {
        templates.push(0);
        inTemplate = false;
        out += '${';
        i += 2;
        lastSignificant = '{';
      } else {
        out += c === '\n' ? '\n' : ' ';
        i++;
      }
      continue;
    }
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"') {
      const stop = quotedEnd(source, i, c);
      out += blank(source.slice(i, stop));
      i = stop;
      lastSignificant = c;
    } else if (c === '`') {
      inTemplate = true;
      out += c;
      i++;
    } else if (c === '/' && regexMayStart(lastSignificant)) {
      const stop = regexEnd(source, i);
      out += blank(source.slice(i, stop));
      i = stop;
      lastSignificant = '/';
    } else {
      if (templates.length > 0) {
        if (c === '{') templates[templates.length - 1]!++;
        else if (c === '}') {
          if (templates.at(-1) === 0) {
            templates.pop();
            inTemplate = true;
          } else templates[templates.length - 1]!--;
        }
      }
      out += c;
      i++;
      if (!/\s/.test(c)) lastSignificant = c;
    }
  }
  return out;
}

/** Where a regex literal may start: after an operator or opening bracket, not after a value. */
function regexMayStart(last: string): boolean {
  return last === '' || '(,=:[!&|?{};+-*%<>~^'.includes(last);
}

function regexEnd(source: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < source.length && source[i] !== '\n') {
    const c = source[i]!;
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      i++;
      while (i < source.length && /[a-z]/i.test(source[i]!)) i++;
      return i;
    }
    i++;
  }
  return i;
}

/** The index just past a string that opened at `start` with `quote`. */
function quotedEnd(source: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') i += 2;
    else if (c === quote) return i + 1;
    else if (c === '\n') return i;
    else i++;
  }
  return source.length;
}

/** Python: `#` comments and every string form (prefixes, triple quotes). */
export function blankPython(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '#') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"') {
      const triple = source.startsWith(c.repeat(3), i);
      let stop: number;
      if (triple) {
        const end = source.indexOf(c.repeat(3), i + 3);
        stop = end === -1 ? source.length : end + 3;
      } else {
        stop = quotedEnd(source, i, c);
      }
      out += blank(source.slice(i, stop));
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Go: comments, interpreted, raw and rune literals. */
export function blankGo(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    let stop = -1;
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      stop = end === -1 ? source.length : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      stop = end === -1 ? source.length : end + 2;
    } else if (c === '`') {
      const end = source.indexOf('`', i + 1);
      stop = end === -1 ? source.length : end + 1;
    } else if (c === '"' || c === "'") {
      stop = quotedEnd(source, i, c);
    }
    if (stop === -1) {
      out += c;
      i++;
    } else {
      out += blank(source.slice(i, stop));
      i = stop;
    }
  }
  return out;
}
