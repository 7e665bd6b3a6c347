import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import type { AgentTool } from '../agent/agent-types.ts';
import { resolveInWorkspace } from './workspace-path.ts';

const argsSchema = z.object({
  path: z.string().default('.').describe('Directory relative to the workspace root'),
});

const MAX_ENTRIES = 500;

export function listFilesTool(workspaceRoot: () => string): AgentTool {
  return {
    spec: {
      name: 'list_files',
      description: `List files under a directory of the session workspace, recursively (at most ${MAX_ENTRIES}).`,
      parameters: z.toJSONSchema(argsSchema, { io: 'input' }) as Record<string, unknown>,
    },
    idempotent: true,
    async execute(rawArgs) {
      const parsed = argsSchema.safeParse(rawArgs);
      if (!parsed.success)
        return { ok: false, output: `Invalid arguments: ${parsed.error.message}` };
      let dir: string;
      try {
        dir = await resolveInWorkspace(workspaceRoot(), parsed.data.path);
      } catch (error) {
        return { ok: false, output: (error as Error).message };
      }
      try {
        const entries = await readdir(dir, { recursive: true, withFileTypes: true });
        const files = entries
          .filter((e) => e.isFile())
          .map((e) => relative(workspaceRoot(), join(e.parentPath, e.name)))
          .sort();
        const shown = files.slice(0, MAX_ENTRIES);
        const more = files.length - shown.length;
        if (shown.length === 0) return { ok: true, output: '(no files)' };
        return { ok: true, output: shown.join('\n') + (more > 0 ? `\n[… ${more} more]` : '') };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return { ok: false, output: `Cannot list ${parsed.data.path}: ${code ?? String(error)}` };
      }
    },
  };
}
