import type { AgentTool } from '../agent/agent-types.ts';
import { bashTool } from './bash-tool.ts';
import { editFileTool } from './edit-file.ts';
import { globTool } from './glob-files.ts';
import { grepTool } from './grep-files.ts';
import { listFilesTool } from './list-files.ts';
import { readFileTool } from './read-file.ts';
import type { SandboxPolicy } from './sandbox/sandbox-types.ts';
import { writeFileTool } from './write-file.ts';

export type BuiltInToolsOptions = {
  /** The session's materialised workspace. */
  workspace: () => string;
  /**
   * How code-running tools run (see `probeSandbox` and `sandboxPolicyFor`); `unavailable` leaves
   * them out, so the model is never offered a tool that would only refuse.
   */
  sandbox: SandboxPolicy | 'unavailable';
};

/** The built-in tools of a session, bound to its materialised workspace. */
export function builtInTools(options: BuiltInToolsOptions): Map<string, AgentTool> {
  const { workspace } = options;
  const tools = [
    readFileTool(workspace),
    listFilesTool(workspace),
    writeFileTool(workspace),
    editFileTool(workspace),
    globTool(workspace),
    grepTool(workspace),
  ];
  if (options.sandbox !== 'unavailable') tools.push(bashTool(workspace, options.sandbox));
  return new Map(tools.map((t) => [t.spec.name, t]));
}
