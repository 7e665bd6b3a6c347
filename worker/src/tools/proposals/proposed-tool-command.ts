import type { ToolRuntime } from '@tern/shared/tools/tool-proposal-schema';

/** Inside the sandbox's private /tmp, which starts empty for every call. */
export const TOOL_DIR = '/tmp/tern-tool';
export const ARGS_FILE = `${TOOL_DIR}/args.json`;

const INTERPRETERS: Record<ToolRuntime, { file: string; argv: string[] }> = {
  bash: { file: 'tool.sh', argv: ['bash'] },
  python: { file: 'tool.py', argv: ['python3'] },
  // No package.json above /tmp: Node detects ESM syntax and runs anything else as CommonJS.
  node: { file: 'tool.js', argv: ['node'] },
};

// Writes the code and the arguments into the sandbox's /tmp, then runs the interpreter on the
// code file with the arguments on stdin. Files rather than `-c`: tracebacks name a file, and a
// script can read its arguments twice. The code leaves the environment before it starts.
const LAUNCHER = [
  'set -e',
  `mkdir -p ${TOOL_DIR}`,
  'printf %s "$TERN_TOOL_CODE" > "$1"',
  `printf %s "$TERN_TOOL_ARGS" > ${ARGS_FILE}`,
  'unset TERN_TOOL_CODE',
  'file=$1',
  'shift',
  `exec "$@" "$file" < ${ARGS_FILE}`,
].join('\n');

export type ProposedToolCommand = { command: string[]; env: Record<string, string> };

/**
 * The argv and environment of one call of a proposed tool. Code and arguments travel in the
 * environment (bwrap sets it inside; the worker's own never enters), because runSandboxed gives
 * the command no stdin and mounts nothing but the workspace from the host.
 */
export function proposedToolCommand(
  runtime: ToolRuntime,
  code: string,
  args: Record<string, unknown>,
): ProposedToolCommand {
  const interpreter = INTERPRETERS[runtime];
  const codeFile = `${TOOL_DIR}/${interpreter.file}`;
  return {
    command: ['/bin/sh', '-c', LAUNCHER, 'tern-tool', codeFile, ...interpreter.argv],
    env: {
      TERN_TOOL_CODE: code,
      TERN_TOOL_ARGS: JSON.stringify(args),
      TERN_TOOL_ARGS_FILE: ARGS_FILE,
    },
  };
}
