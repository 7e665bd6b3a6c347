import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { AgentTool, ToolResult } from '../agent/agent-types.ts';
import { defineTool } from './define-tool.ts';
import { closestMatch } from './edit-closest-match.ts';
import { resolveInWorkspace } from './workspace-path.ts';

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const SHOWN_CHARS = 400;

const argsSchema = z.object({
  path: z.string().min(1).describe('File path relative to the workspace root'),
  old_text: z
    .string()
    .min(1)
    .describe(
      'Exact text to replace, including whitespace; must appear exactly once unless replace_all',
    ),
  new_text: z.string().describe('Replacement text'),
  replace_all: z.boolean().default(false).describe('Replace every occurrence of old_text'),
});

/**
 * Replaces exact text in a file. Not idempotent: after a successful run `old_text` is gone (or,
 * when `new_text` contains it, would be replaced again), so a re-run after a crash could fail or
 * apply the edit twice; the model is told instead.
 */
export function editFileTool(workspaceRoot: () => string): AgentTool {
  return defineTool({
    name: 'edit_file',
    description:
      'Replace exact text in a file of the session workspace. old_text must match the file ' +
      'exactly (whitespace included) and appear once; add surrounding lines to make it unique, ' +
      'or set replace_all to change every occurrence.',
    schema: argsSchema,
    idempotent: false,
    concurrency: 'sequential',
    timeoutMs: 30_000,
    outputCapBytes: 4_000,
    async execute({ path, old_text, new_text, replace_all }) {
      if (old_text === new_text) {
        return { ok: false, output: 'old_text and new_text are identical; nothing to change' };
      }
      let file: string;
      try {
        file = await resolveInWorkspace(workspaceRoot(), path);
      } catch (error) {
        return { ok: false, output: (error as Error).message };
      }
      let content: string;
      try {
        const bytes = await readFile(file);
        if (bytes.length > MAX_FILE_BYTES) {
          return {
            ok: false,
            output: `${path} is ${bytes.length} bytes; edit_file handles up to ${MAX_FILE_BYTES}`,
          };
        }
        if (bytes.includes(0)) return { ok: false, output: `${path} looks binary; not editing it` };
        content = bytes.toString('utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT')
          return { ok: false, output: `No such file: ${path} (use write_file to create it)` };
        if (code === 'EISDIR') return { ok: false, output: `${path} is a directory` };
        return { ok: false, output: `Cannot read ${path}: ${code ?? (error as Error).message}` };
      }

      let oldText = old_text;
      let newText = new_text;
      // Models write \n; a CRLF file would never match. Edit it in its own line endings.
      if (!content.includes(oldText) && content.includes('\r\n') && oldText.includes('\n')) {
        const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
        if (content.includes(crlf(oldText))) {
          oldText = crlf(oldText);
          newText = crlf(newText);
        }
      }
      const at = occurrences(content, oldText);
      if (at.length === 0) return notFound(path, content, oldText);
      if (at.length > 1 && !replace_all) {
        const lines = at.slice(0, 20).map((i) => lineOf(content, i));
        const more = at.length > 20 ? ` and ${at.length - 20} more` : '';
        return {
          ok: false,
          output:
            `old_text appears ${at.length} times in ${path} (at lines ${lines.join(', ')}${more}); ` +
            'add surrounding context to make it unique, or set replace_all to change them all',
        };
      }
      const updated = replace_all
        ? content.split(oldText).join(newText)
        : spliceAt(content, at[0]!, oldText, newText);
      try {
        await writeFile(file, updated);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return { ok: false, output: `Cannot write ${path}: ${code ?? (error as Error).message}` };
      }
      const firstLine = lineOf(content, at[0]!);
      return {
        ok: true,
        output:
          at.length === 1
            ? `Edited ${path}: replaced 1 occurrence at line ${firstLine}`
            : `Edited ${path}: replaced ${at.length} occurrences (first at line ${firstLine})`,
      };
    },
  });
}

function occurrences(content: string, text: string): number[] {
  const found: number[] = [];
  for (let i = content.indexOf(text); i !== -1; i = content.indexOf(text, i + text.length)) {
    found.push(i);
  }
  return found;
}

function spliceAt(content: string, index: number, oldText: string, newText: string): string {
  return content.slice(0, index) + newText + content.slice(index + oldText.length);
}

function lineOf(content: string, index: number): number {
  let line = 1;
  for (let i = content.indexOf('\n'); i !== -1 && i < index; i = content.indexOf('\n', i + 1))
    line++;
  return line;
}

function notFound(path: string, content: string, oldText: string): ToolResult {
  const lineCount =
    content === '' ? 0 : content.split('\n').length - (content.endsWith('\n') ? 1 : 0);
  let output = `old_text not found in ${path}; the file has ${lineCount} lines`;
  const near = closestMatch(content.replace(/\r\n/g, '\n'), oldText.replace(/\r\n/g, '\n'));
  if (near) {
    const shown =
      near.text.length > SHOWN_CHARS ? `${near.text.slice(0, SHOWN_CHARS)}…` : near.text;
    output += near.whitespaceOnly
      ? `; it matches at line ${near.line} except for whitespace (indentation or line breaks differ). The file has:\n${shown}`
      : `; closest match at line ${near.line}:\n${shown}`;
  }
  return { ok: false, output };
}
