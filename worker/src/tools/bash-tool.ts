import { z } from 'zod';
import type { AgentTool } from '../agent/agent-types.ts';
import { formatBashResult } from './bash-output.ts';
import { defineTool } from './define-tool.ts';
import { runSandboxed, SandboxError } from './sandbox/run-sandboxed.ts';
import type { SandboxPolicy } from './sandbox/sandbox-types.ts';

const DEFAULT_TIMEOUT_MS = 120_000;
/** Per stream, as the model reads it; the sandbox's own cap bounds what is collected at all. */
const STREAM_BUDGET = 24_000;

/** One schema per limit pair, so that its JSON Schema is converted once (define-tool.ts). */
const schemas = new Map<string, ReturnType<typeof makeArgsSchema>>();
const argsSchema = (maxMs: number, defaultMs: number) => {
  const key = `${maxMs}/${defaultMs}`;
  let schema = schemas.get(key);
  if (!schema) {
    schema = makeArgsSchema(maxMs, defaultMs);
    schemas.set(key, schema);
  }
  return schema;
};

const makeArgsSchema = (maxMs: number, defaultMs: number) =>
  z.object({
    command: z.string().min(1).describe('Shell script run by bash -lc in the workspace'),
    timeout_ms: z
      .number()
      .int()
      .min(1_000)
      .max(maxMs)
      .optional()
      .describe(`Wall-clock limit in ms (default ${defaultMs}, at most ${maxMs})`),
  });

/**
 * Runs a shell command in the session's sandbox. Exclusive: a command may touch any file of the
 * workspace, so nothing runs beside it. Not idempotent: commands have effects (installs, moves,
 * appends) that a second run would repeat.
 */
export function bashTool(workspaceRoot: () => string, policy: SandboxPolicy): AgentTool {
  // The policy's wall time is the operator's ceiling; a call gets less unless it asks.
  const maxMs = policy.limits.wallMs;
  const defaultMs = Math.min(DEFAULT_TIMEOUT_MS, maxMs);
  const network = policy.network ? 'has network access' : 'has no network access';
  return defineTool({
    name: 'bash',
    description:
      `Run a bash command in /workspace (the session workspace) inside a sandbox that ${network}. ` +
      'Each call starts fresh: background processes are stopped when the command returns, and ' +
      '/tmp is emptied. Answers the exit code, stdout and stderr.',
    schema: argsSchema(maxMs, defaultMs),
    idempotent: false,
    concurrency: 'exclusive',
    // Past the sandbox's own limit, so that its result (which says what happened) wins the race.
    timeoutMs: maxMs + 15_000,
    outputCapBytes: 2 * STREAM_BUDGET + 2_000,
    async execute({ command, timeout_ms }, { signal }) {
      const limits = { ...policy.limits, wallMs: timeout_ms ?? defaultMs };
      try {
        const result = await runSandboxed({
          workspace: workspaceRoot(),
          command: ['bash', '-lc', command],
          policy: { ...policy, limits },
          signal,
        });
        return {
          ok: result.end === 'exit' && result.exitCode === 0,
          output: formatBashResult(result, limits, STREAM_BUDGET),
        };
      } catch (error) {
        if (error instanceof SandboxError) {
          return {
            ok: false,
            output: `The sandbox could not start, the command did not run: ${error.message}`,
          };
        }
        throw error;
      }
    },
  });
}
