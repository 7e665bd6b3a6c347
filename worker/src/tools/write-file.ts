import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { AgentTool } from '../agent/agent-types.ts';
import { defineTool } from './define-tool.ts';
import { resolveInWorkspace } from './workspace-path.ts';

const MAX_CONTENT_BYTES = 4 * 1024 * 1024;

const argsSchema = z.object({
  path: z.string().min(1).describe('File path relative to the workspace root'),
  content: z.string().describe('The complete new content of the file'),
});

/**
 * Creates or overwrites a file with the given content, creating parent directories.
 *
 * Idempotent: the call states the file's whole content, so running it again after a crash leaves
 * the same file as running it once (the resumed turn re-runs it before anything that follows).
 * Sequential: two writes to one path in one response must land in the model's order.
 */
export function writeFileTool(workspaceRoot: () => string): AgentTool {
  return defineTool({
    name: 'write_file',
    description:
      'Create or overwrite a file in the session workspace with the given content (parent ' +
      'directories are created). Prefer edit_file for changing part of an existing file.',
    schema: argsSchema,
    idempotent: true,
    concurrency: 'sequential',
    timeoutMs: 30_000,
    outputCapBytes: 2_000,
    async execute({ path, content }) {
      const bytes = Buffer.byteLength(content);
      if (bytes > MAX_CONTENT_BYTES) {
        return {
          ok: false,
          output: `Content is ${bytes} bytes; the limit is ${MAX_CONTENT_BYTES}`,
        };
      }
      let file: string;
      try {
        file = await resolveInWorkspace(workspaceRoot(), path);
      } catch (error) {
        return { ok: false, output: (error as Error).message };
      }
      const existed = await stat(file).then(
        (info) => (info.isDirectory() ? 'dir' : 'file'),
        () => undefined,
      );
      if (existed === 'dir') return { ok: false, output: `${path} is a directory` };
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, content);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR' || code === 'EEXIST') {
          return { ok: false, output: `Cannot write ${path}: a parent of it is a file` };
        }
        return { ok: false, output: `Cannot write ${path}: ${code ?? (error as Error).message}` };
      }
      const lines =
        content === '' ? 0 : content.split('\n').length - (content.endsWith('\n') ? 1 : 0);
      return {
        ok: true,
        output: `${existed ? 'Overwrote' : 'Created'} ${path} (${bytes} bytes, ${lines} lines)`,
      };
    },
  });
}
