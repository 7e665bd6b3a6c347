import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export class WorkspaceEscapeError extends Error {
  override name = 'WorkspaceEscapeError';
}

/**
 * Resolves a model-supplied path inside the workspace, following symlinks, and refuses anything
 * that lands outside it: the model's arguments are untrusted input, and files the model's own
 * commands created (symlinks included) are too.
 *
 * A path that does not exist yet (a file about to be written) is resolved through its deepest
 * existing ancestor, so `link/new.txt` with `link -> /etc` is refused rather than written through
 * the link; a dangling symlink is refused because writing to it would create its target.
 */
export async function resolveInWorkspace(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  const target = resolve(realRoot, path);
  const inside = (p: string) => {
    const rel = relative(realRoot, p);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  };
  if (!inside(target)) throw new WorkspaceEscapeError(`${path} is outside the workspace`);
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    try {
      await lstat(existing);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') break;
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
  let real: string;
  try {
    real = await realpath(existing);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') {
      throw new WorkspaceEscapeError(`${path} goes through a broken symlink`);
    }
    // Not a directory and the like: the caller's own fs call reports it precisely.
    return target;
  }
  if (!inside(real)) throw new WorkspaceEscapeError(`${path} links outside the workspace`);
  return join(real, ...missing);
}

/** The path as the model should read it: relative to the workspace root, with `/` separators. */
export function workspaceRelative(root: string, absolute: string): string {
  return relative(root, absolute).split(sep).join('/') || '.';
}
