import type { SessionStore } from '@tern/shared/session/session-store';
import { ToolProposalStore } from '@tern/shared/tools/tool-proposal-store';
import type { AgentTool } from '../../agent/agent-types.ts';
import { DEFAULT_SANDBOX_POLICY, type SandboxPolicy } from '../sandbox/sandbox-types.ts';
import { builtInTools } from '../tool-registry.ts';
import { proposeTool } from './propose-tool.ts';
import { canRunProposedTools, proposedTools } from './proposed-tools.ts';

export type SessionToolsOptions = {
  store: SessionStore;
  sessionId: string;
  /** The session's materialised workspace. */
  workspace: () => string;
  sandbox: SandboxPolicy | 'unavailable';
  /** Defaults to one store per session store, sharing its cache of definitions. */
  proposals?: ToolProposalStore;
};

/**
 * Every built-in name, whether or not this worker offers it: a proposal named `bash` on a worker
 * without a sandbox would clash on the next worker that has one.
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...builtInTools({ workspace: () => '/', sandbox: DEFAULT_SANDBOX_POLICY }).keys(),
  'propose_tool',
]);

/**
 * The tools of one turn of a session: the built-ins, `propose_tool`, and the proposals a human
 * approved before the turn started. A built-in always wins a name (a proposal cannot take one,
 * but a later release may add a built-in under a name already approved).
 */
export async function sessionTools(options: SessionToolsOptions): Promise<Map<string, AgentTool>> {
  const proposals = options.proposals ?? ToolProposalStore.of(options.store);
  const tools = builtInTools({ workspace: options.workspace, sandbox: options.sandbox });
  const propose = proposeTool({
    proposals,
    reservedNames: RESERVED_NAMES,
    canRun: canRunProposedTools(options.sandbox),
  });
  tools.set(propose.spec.name, propose);
  for (const tool of await proposedTools({ ...options, proposals })) {
    if (!RESERVED_NAMES.has(tool.spec.name)) tools.set(tool.spec.name, tool);
  }
  return tools;
}
