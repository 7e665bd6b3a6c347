import { open } from 'node:fs/promises';
import { z } from 'zod';
import type { AgentTool } from '../agent/agent-types.ts';
import { resolveInWorkspace } from './workspace-path.ts';

const argsSchema = z.object({
  path: z.string().min(1).describe('Path relative to the workspace root'),
  offset: z.number().int().min(0).optional().describe('Byte offset to start reading at'),
});

const MAX_BYTES = 64 * 1024;

export function readFileTool(workspaceRoot: () => string): AgentTool {
  return {
    spec: {
      name: 'read_file',
      description: `Read a UTF-8 text file from the session workspace (at most ${MAX_BYTES} bytes per call).`,
      parameters: z.toJSONSchema(argsSchema) as Record<string, unknown>,
    },
    idempotent: true,
    async execute(rawArgs) {
      const parsed = argsSchema.safeParse(rawArgs);
      if (!parsed.success)
        return { ok: false, output: `Invalid arguments: ${parsed.error.message}` };
      const { path, offset = 0 } = parsed.data;
      let file: string;
      try {
        file = await resolveInWorkspace(workspaceRoot(), path);
      } catch (error) {
        return { ok: false, output: (error as Error).message };
      }
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(file, 'r');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return { ok: false, output: `No such file: ${path}` };
        if (code === 'EISDIR') return { ok: false, output: `${path} is a directory` };
        return { ok: false, output: `Cannot read ${path}: ${code ?? (error as Error).message}` };
      }
      try {
        const { size } = await handle.stat();
        const buffer = Buffer.alloc(Math.min(MAX_BYTES, Math.max(0, size - offset)));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        const text = buffer.subarray(0, bytesRead).toString('utf8');
        const rest = size - offset - bytesRead;
        return {
          ok: true,
          output:
            rest > 0
              ? `${text}\n[… ${rest} more bytes; read again with offset ${offset + bytesRead}]`
              : text,
        };
      } finally {
        await handle.close();
      }
    },
  };
}
