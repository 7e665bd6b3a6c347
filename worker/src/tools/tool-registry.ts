import type { AgentTool } from '../agent/agent-types.ts';
import { listFilesTool } from './list-files.ts';
import { readFileTool } from './read-file.ts';

/** The built-in tools of a session, bound to its materialised workspace. */
export function builtInTools(workspaceRoot: () => string): Map<string, AgentTool> {
  const tools = [readFileTool(workspaceRoot), listFilesTool(workspaceRoot)];
  return new Map(tools.map((t) => [t.spec.name, t]));
}
