import type { PartialArg } from '@google/genai';

/**
 * Assembles a function call whose arguments Gemini 3 streams piecewise (Vertex's
 * `streamFunctionCallArguments`): each `PartialArg` sets the value at a JSON path, and a string
 * whose previous piece said `willContinue` is appended to. Argument text is streamed as the
 * growing JSON with its closing quote and brackets held back, which stays a prefix of the final
 * text as long as values arrive in document order (they do: the model writes the JSON in order).
 * If a piece ever rewrites what was already sent, deltas stop and the final text is still exact.
 */
export interface ArgsAssembly {
  args: Record<string, unknown>;
  /** The argument text already handed out as deltas. */
  sent: string;
  /** The path of a string value still being continued. */
  openPath: string | undefined;
  /** A piece rewrote sent text: no more deltas for this call. */
  diverged: boolean;
}

export function newAssembly(args: Record<string, unknown> = {}): ArgsAssembly {
  return { args, sent: '', openPath: undefined, diverged: false };
}

/** Applies the pieces; returns the new argument text to stream ('' when none). */
export function applyPartialArgs(assembly: ArgsAssembly, pieces: readonly PartialArg[]): string {
  for (const piece of pieces) {
    if (!piece.jsonPath) continue;
    const path = parsePath(piece.jsonPath);
    if (!path) continue;
    if (piece.stringValue !== undefined) {
      const previous = getAt(assembly.args, path);
      const append = assembly.openPath === piece.jsonPath && typeof previous === 'string';
      setAt(assembly.args, path, append ? previous + piece.stringValue : piece.stringValue);
    } else if (piece.numberValue !== undefined) setAt(assembly.args, path, piece.numberValue);
    else if (piece.boolValue !== undefined) setAt(assembly.args, path, piece.boolValue);
    else if (piece.nullValue !== undefined) setAt(assembly.args, path, null);
    assembly.openPath =
      piece.willContinue && piece.stringValue !== undefined ? piece.jsonPath : undefined;
  }
  return advance(assembly, openText(assembly));
}

/** The call closed: the rest of the text, and the whole of it. */
export function closeAssembly(assembly: ArgsAssembly): { delta: string; raw: string } {
  assembly.openPath = undefined;
  const raw = JSON.stringify(assembly.args);
  return { delta: advance(assembly, raw), raw };
}

function advance(assembly: ArgsAssembly, text: string): string {
  if (assembly.diverged) return '';
  if (!text.startsWith(assembly.sent)) {
    assembly.diverged = true;
    return '';
  }
  const delta = text.slice(assembly.sent.length);
  assembly.sent = text;
  return delta;
}

/** The JSON so far without what may still change: closing brackets, an open string's quote. */
function openText(assembly: ArgsAssembly): string {
  const full = JSON.stringify(assembly.args);
  const trimmed = full.replace(/[}\]]+$/, '');
  return assembly.openPath !== undefined && trimmed.endsWith('"') ? trimmed.slice(0, -1) : trimmed;
}

type Key = string | number;

/** RFC 9535 paths as Gemini writes them: `$.a.b[0]`, `$['a b']`. */
export function parsePath(path: string): Key[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const keys: Key[] = [];
  const token = /\.([^.[\]]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y;
  token.lastIndex = 1;
  while (token.lastIndex < path.length) {
    const match = token.exec(path);
    if (!match) return undefined;
    const [, dotted, index, single, double] = match;
    if (index !== undefined) keys.push(Number(index));
    else keys.push((dotted ?? single ?? double ?? '').replace(/\\(.)/g, '$1'));
  }
  return keys.length > 0 ? keys : undefined;
}

type Container = Record<string, unknown> | unknown[];

function getAt(root: Container, path: readonly Key[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<Key, unknown>)[key];
  }
  return node;
}

function setAt(root: Container, path: readonly Key[], value: unknown): void {
  let node: Container = root;
  path.forEach((key, i) => {
    const container = node as Record<Key, unknown>;
    if (i === path.length - 1) {
      container[key] = value;
      return;
    }
    const next = container[key];
    if (typeof next !== 'object' || next === null) {
      container[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = container[key] as Container;
  });
}
