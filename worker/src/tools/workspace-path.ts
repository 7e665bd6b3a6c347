import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class WorkspaceEscapeError extends Error {
  override name = 'WorkspaceEscapeError';
}

/**
 * Resolves a model-supplied path inside the workspace, following symlinks, and refuses anything
 * that lands outside it: the model's arguments are untrusted input.
 */
export async function resolveInWorkspace(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  const target = resolve(realRoot, path);
  const inside = (p: string) => {
    const rel = relative(realRoot, p);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  };
  if (!inside(target)) throw new WorkspaceEscapeError(`${path} is outside the workspace`);
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    return target;
  }
  if (!inside(real)) throw new WorkspaceEscapeError(`${path} links outside the workspace`);
  return real;
}
