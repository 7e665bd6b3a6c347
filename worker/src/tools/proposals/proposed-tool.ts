import type { ToolDefinition } from '@tern/shared/tools/tool-proposal-schema';
import type { AgentTool } from '../../agent/agent-types.ts';
import { formatBashResult } from '../bash-output.ts';
import { runSandboxed, SandboxError } from '../sandbox/run-sandboxed.ts';
import type { SandboxPolicy, SandboxResult } from '../sandbox/sandbox-types.ts';
import { proposedToolCommand } from './proposed-tool-command.ts';

/** Per call; the operator's policy may lower it, never raise it. */
const WALL_MS = 60_000;
/** Per stream, as the model reads it. */
const STREAM_BUDGET = 24_000;
/**
 * The arguments travel as one environment string, which the kernel caps at 128 KiB; the rest of
 * that room is kept for the name and the terminator.
 */
const MAX_ARGS_BYTES = 96 * 1024;

export type ProposedToolOptions = {
  definition: ToolDefinition;
  workspace: () => string;
  /** A policy with bwrap; proposed tools never run without isolation. */
  policy: SandboxPolicy;
};

/**
 * An approved proposal as a tool: its code runs in the session's sandbox (the workspace
 * read-write, no network unless the policy grants it) with the arguments as JSON on stdin and in
 * `$TERN_TOOL_ARGS_FILE`. Stdout is the result; a non-zero exit is a failed call that shows
 * stderr. Its arguments were checked against its JSON Schema by the LLM layer before this runs.
 * Not idempotent and exclusive, like bash: nobody reviewed what its effects are, only that the
 * code may run.
 */
export function proposedTool(options: ProposedToolOptions): AgentTool {
  const { definition, policy } = options;
  const limits = { ...policy.limits, wallMs: Math.min(WALL_MS, policy.limits.wallMs) };
  return {
    spec: {
      name: definition.name,
      description: definition.description,
      parameters: definition.parameters,
    },
    idempotent: false,
    concurrency: 'exclusive',
    // Past the sandbox's own limit, so that its result (which says what happened) wins the race.
    timeoutMs: limits.wallMs + 15_000,
    outputCapBytes: 2 * STREAM_BUDGET + 2_000,
    async execute(args, { signal }) {
      // proposedTools never builds one for such a policy; this keeps any other caller honest.
      if (policy.unsafeNoSandbox) {
        return {
          ok: false,
          output: `${definition.name} runs only in the sandbox, which is off here.`,
        };
      }
      const { command, env } = proposedToolCommand(definition.runtime, definition.code, args);
      const argsBytes = Buffer.byteLength(env.TERN_TOOL_ARGS ?? '');
      if (argsBytes > MAX_ARGS_BYTES) {
        return {
          ok: false,
          output: `The arguments are ${argsBytes} bytes of JSON; ${definition.name} takes at most ${MAX_ARGS_BYTES}. Write large inputs to a workspace file and pass its path.`,
        };
      }
      try {
        const result = await runSandboxed({
          workspace: options.workspace(),
          command,
          env,
          policy: { ...policy, limits },
          signal,
        });
        return formatResult(result, limits);
      } catch (error) {
        if (error instanceof SandboxError) {
          return {
            ok: false,
            output: `The sandbox could not start, ${definition.name} did not run: ${error.message}`,
          };
        }
        throw error;
      }
    },
  };
}

function formatResult(
  result: SandboxResult,
  limits: { wallMs: number; outputBytes: number },
): { ok: boolean; output: string } {
  if (result.end !== 'exit' || result.exitCode !== 0) {
    return { ok: false, output: formatBashResult(result, limits, STREAM_BUDGET) };
  }
  // A clean run answers with its stdout alone, as a function returns its value (the loop caps
  // its size); limits hit on the way are said first.
  const notes = result.notes.map((n) => `[${n}]\n`).join('');
  return { ok: true, output: notes + (result.stdout === '' ? '(no output)' : result.stdout) };
}
