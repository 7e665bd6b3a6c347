import { realpath } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { AgentTool } from '../agent/agent-types.ts';
import { defineTool } from './define-tool.ts';
import type { GrepJob, GrepReport } from './grep-scan.ts';
import { resolveInWorkspace } from './workspace-path.ts';

const DEFAULT_RESULTS = 100;
const MAX_RESULTS = 1_000;
const SCAN_TIMEOUT_MS = 20_000;

const argsSchema = z.object({
  pattern: z.string().min(1).describe('JavaScript regular expression searched for in each line'),
  path: z
    .string()
    .default('.')
    .describe('File or directory to search, relative to the workspace root'),
  glob: z
    .string()
    .optional()
    .describe('Only search files whose path (or name) matches, e.g. **/*.ts'),
  ignore_case: z.boolean().default(false),
  max_results: z.number().int().min(1).max(MAX_RESULTS).default(DEFAULT_RESULTS),
});

/** Searches file contents line by line and answers with `path:line: text` lines. */
export function grepTool(workspaceRoot: () => string): AgentTool {
  return defineTool({
    name: 'grep',
    description:
      'Search file contents in the session workspace with a regular expression; answers ' +
      '"path:line: text" lines. Skips .git, node_modules, binary files and files over 2 MB.',
    schema: argsSchema,
    idempotent: true,
    concurrency: 'parallel',
    timeoutMs: SCAN_TIMEOUT_MS + 5_000,
    outputCapBytes: 60_000,
    async execute(args, { signal }) {
      const flags = args.ignore_case ? 'i' : '';
      try {
        new RegExp(args.pattern, flags);
      } catch (error) {
        return { ok: false, output: `Invalid regular expression: ${(error as Error).message}` };
      }
      let job: GrepJob;
      try {
        const root = await realpath(workspaceRoot());
        const start = await realpath(await resolveInWorkspace(root, args.path));
        job = {
          root,
          start,
          pattern: args.pattern,
          flags,
          glob: args.glob,
          maxResults: args.max_results,
        };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT')
          return { ok: false, output: `No such file or directory: ${args.path}` };
        return { ok: false, output: (error as Error).message };
      }
      const outcome = await runScan(job, signal);
      if ('error' in outcome) return { ok: false, output: outcome.error };
      return { ok: true, output: formatReport(outcome.report, args.max_results) };
    },
  });
}

function runScan(
  job: GrepJob,
  signal: AbortSignal,
): Promise<{ report: GrepReport } | { error: string }> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./grep-scan.ts', import.meta.url), { workerData: job });
    const finish = (value: { report: GrepReport } | { error: string }) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      void worker.terminate();
      resolve(value);
    };
    const timer = setTimeout(
      () =>
        finish({
          error: `grep stopped after ${SCAN_TIMEOUT_MS} ms; simplify the pattern or narrow the path`,
        }),
      SCAN_TIMEOUT_MS,
    );
    const onAbort = () => finish({ error: 'grep was cancelled' });
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    worker.once('message', (message: { report: GrepReport } | { error: string }) =>
      finish(message),
    );
    worker.once('error', (error) => finish({ error: `grep failed: ${error.message}` }));
  });
}

function formatReport(report: GrepReport, maxResults: number): string {
  const notes: string[] = [];
  if (report.capped)
    notes.push(`[stopped at ${maxResults} matches; narrow the search or raise max_results]`);
  if (report.skipped.large > 0)
    notes.push(`[${report.skipped.large} files over 2 MB not searched]`);
  if (report.skipped.binary > 0) notes.push(`[${report.skipped.binary} binary files not searched]`);
  const body =
    report.lines.length > 0
      ? report.lines.join('\n')
      : `No matches in ${report.filesSearched} files`;
  return [body, ...notes].join('\n');
}
