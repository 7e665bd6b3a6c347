import type { ToolProposalStore } from '@tern/shared/tools/tool-proposal-store';
import type { AgentTool } from '../../agent/agent-types.ts';
import type { SandboxPolicy } from '../sandbox/sandbox-types.ts';
import { proposedTool } from './proposed-tool.ts';

export type ProposedToolsOptions = {
  proposals: ToolProposalStore;
  sessionId: string;
  workspace: () => string;
  sandbox: SandboxPolicy | 'unavailable';
};

/**
 * The session's approved proposals as tools. None where they could not be isolated: without
 * bwrap, and also in the operator's unsafe mode, which lets bash run unisolated but was never
 * part of what the reviewer approved ("runs only inside the sandbox").
 */
export async function proposedTools(options: ProposedToolsOptions): Promise<AgentTool[]> {
  const { sandbox } = options;
  if (!canRunProposedTools(sandbox)) return [];
  const approved = await options.proposals.approved(options.sessionId);
  return approved.map(({ definition }) =>
    proposedTool({ definition, workspace: options.workspace, policy: sandbox }),
  );
}

export function canRunProposedTools(
  sandbox: SandboxPolicy | 'unavailable',
): sandbox is SandboxPolicy {
  return sandbox !== 'unavailable' && sandbox.unsafeNoSandbox !== true;
}
