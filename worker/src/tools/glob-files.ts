import { glob, lstat, realpath } from 'node:fs/promises';
import { z } from 'zod';
import type { AgentTool } from '../agent/agent-types.ts';
import { defineTool } from './define-tool.ts';
import { resolveInWorkspace, workspaceRelative } from './workspace-path.ts';

const MAX_RESULTS = 500;
/** Matches collected before giving up on sorting them all. */
const SCAN_LIMIT = 10_000;
/** Never useful to list and often huge. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

const argsSchema = z.object({
  pattern: z
    .string()
    .min(1)
    .describe('Glob pattern relative to path, e.g. src/**/*.ts or **/*.test.ts'),
  path: z
    .string()
    .default('.')
    .describe('Directory to search from, relative to the workspace root'),
});

/**
 * Finds files by glob pattern with Node's fs.glob, which does not follow symlinked directories.
 * Patterns that climb out (`..`) or start at `/` are refused rather than evaluated: fs.glob would
 * happily walk the host from there.
 */
export function globTool(workspaceRoot: () => string): AgentTool {
  return defineTool({
    name: 'glob',
    description:
      `Find files in the session workspace by glob pattern (e.g. "src/**/*.ts"), sorted by path, ` +
      `at most ${MAX_RESULTS}. .git and node_modules are skipped unless the pattern names them.`,
    schema: argsSchema,
    idempotent: true,
    concurrency: 'parallel',
    timeoutMs: 30_000,
    outputCapBytes: 40_000,
    async execute({ pattern, path }, { signal }) {
      if (pattern.startsWith('/') || pattern.split('/').includes('..')) {
        return {
          ok: false,
          output: 'The pattern must be relative to the workspace and not contain ..',
        };
      }
      let root: string;
      let base: string;
      try {
        root = await realpath(workspaceRoot());
        base = await resolveInWorkspace(root, path);
        if (!(await lstat(base)).isDirectory())
          return { ok: false, output: `${path} is not a directory` };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return { ok: false, output: `No such directory: ${path}` };
        return { ok: false, output: (error as Error).message };
      }
      const named = pattern.split('/').filter((part) => SKIPPED_DIRS.has(part));
      const skip = new Set([...SKIPPED_DIRS].filter((dir) => !named.includes(dir)));
      const found: string[] = [];
      try {
        for await (const entry of glob(pattern, {
          cwd: base,
          withFileTypes: true,
          exclude: (dirent) => dirent.isDirectory() && skip.has(dirent.name),
        })) {
          if (signal.aborted) break;
          if (!entry.isFile() && !entry.isSymbolicLink()) continue;
          const absolute = `${entry.parentPath}/${entry.name}`;
          // A pattern that names a symlinked directory is walked through the link; only what
          // really lies inside the workspace is listed.
          try {
            await resolveInWorkspace(root, absolute);
          } catch {
            continue;
          }
          found.push(workspaceRelative(root, absolute));
          if (found.length >= SCAN_LIMIT) break;
        }
      } catch (error) {
        return { ok: false, output: `Bad pattern ${pattern}: ${(error as Error).message}` };
      }
      if (found.length === 0) return { ok: true, output: `No files match ${pattern}` };
      found.sort();
      const shown = found.slice(0, MAX_RESULTS);
      const more = found.length - shown.length;
      const tail =
        found.length >= SCAN_LIMIT
          ? `\n[… more than ${SCAN_LIMIT - MAX_RESULTS} more; narrow the pattern]`
          : `\n[… ${more} more; narrow the pattern]`;
      return { ok: true, output: shown.join('\n') + (more > 0 ? tail : '') };
    },
  });
}
