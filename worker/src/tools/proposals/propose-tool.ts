import { checkToolProposal } from '@tern/shared/tools/tool-proposal-check';
import {
  TOOL_CODE_MAX_BYTES,
  TOOL_NAME_PATTERN,
  type ToolProposal,
  toolRuntimeSchema,
} from '@tern/shared/tools/tool-proposal-schema';
import type { ToolProposalStore } from '@tern/shared/tools/tool-proposal-store';
import { z } from 'zod';
import type { AgentTool } from '../../agent/agent-types.ts';
import { defineTool } from '../define-tool.ts';

export type ProposeToolOptions = {
  proposals: ToolProposalStore;
  /** Names a proposal may not take: the built-in tools'. */
  reservedNames: ReadonlySet<string>;
  /** False where proposed tools cannot run (no bwrap): the model is told before it proposes. */
  canRun: boolean;
  now?: () => number;
};

// Loose on purpose: the precise rules are checked by checkToolProposal, whose messages say what
// to fix, where a schema failure would only say "does not match".
const argsSchema = z.object({
  name: z.string().describe(`Tool name, matching ${TOOL_NAME_PATTERN.source}`),
  description: z.string().describe('What the tool does and returns, for the model that calls it'),
  parameters: z
    .record(z.string(), z.unknown())
    .describe('JSON Schema of the arguments object ("type": "object", with "properties")'),
  runtime: toolRuntimeSchema.describe('Interpreter of `code`: bash, python (3) or node'),
  code: z
    .string()
    .describe(
      `Source of the tool, at most ${TOOL_CODE_MAX_BYTES} bytes. It reads its arguments as JSON ` +
        'from stdin (also in the file named by $TERN_TOOL_ARGS_FILE), runs in /workspace, prints ' +
        'its result to stdout and exits 0; a non-zero exit reports stderr as the error',
    ),
  reason: z.string().describe('Why this tool is needed, for the human who reviews it'),
});

/**
 * `propose_tool`: the agent asks for a new tool. The proposal is stored as pending for a human to
 * review through the API; only after approval do later turns of the session offer it, and it
 * then runs only in the sandbox. Idempotent: the same definition always maps to the same
 * proposal, so a re-run after a crash finds what the first run stored.
 */
export function proposeTool(options: ProposeToolOptions): AgentTool {
  const now = options.now ?? Date.now;
  const availability = options.canRun
    ? 'Approved tools run in a sandbox without network access.'
    : 'Note: this deployment has no sandbox, so proposed tools cannot run here, even once approved.';
  return defineTool({
    name: 'propose_tool',
    description:
      'Propose a new tool (a script with a JSON Schema for its arguments) when no existing tool ' +
      'fits a task you expect to repeat. A human reviews the proposal; once approved, the tool ' +
      `is available from the next turn on, not in this one. ${availability}`,
    schema: argsSchema,
    idempotent: true,
    concurrency: 'parallel',
    timeoutMs: 15_000,
    async execute(args, { sessionId }) {
      const check = checkToolProposal(args, options.reservedNames);
      if (!check.ok) {
        return {
          ok: false,
          output: `The proposal was not stored:\n${check.problems.map((p) => `- ${p}`).join('\n')}`,
        };
      }
      const result = await options.proposals.propose(sessionId, check.proposal, now());
      switch (result.kind) {
        case 'created':
          return { ok: true, output: pendingText(result.proposal, options.canRun) };
        case 'existing':
          return {
            ok: result.proposal.status !== 'rejected',
            output: existingText(result.proposal, options.canRun),
          };
        case 'name_taken':
          return {
            ok: false,
            output: `The proposal was not stored: an approved tool named ${check.proposal.name} already exists (id ${result.holder}); propose the new version under another name.`,
          };
        case 'limit_reached':
          return {
            ok: false,
            output: `The proposal was not stored: this session already holds ${result.limit} tool proposals, the most it may.`,
          };
        case 'session_missing':
          return {
            ok: false,
            output: 'The proposal was not stored: the session no longer exists.',
          };
      }
    },
  });
}

function pendingText(proposal: ToolProposal, canRun: boolean): string {
  const text =
    `Proposed ${proposal.name}; waiting for review (id ${proposal.id}). It will be available ` +
    'after a human approves it, from a later turn on; until then it cannot be called.';
  return canRun ? text : `${text} This deployment has no sandbox, so it cannot run here.`;
}

function existingText(proposal: ToolProposal, canRun: boolean): string {
  switch (proposal.status) {
    case 'pending':
      return `${proposal.name} was already proposed and is still waiting for review (id ${proposal.id}).`;
    case 'approved':
      return canRun
        ? `${proposal.name} was already approved (id ${proposal.id}); it is offered from the turn after its approval on.`
        : `${proposal.name} was approved (id ${proposal.id}), but this deployment has no sandbox, so it cannot run here.`;
    case 'rejected': {
      const why = proposal.decisionReason ? `: ${proposal.decisionReason}` : '';
      return `This exact proposal of ${proposal.name} was rejected (id ${proposal.id})${why}. Do not propose it again unchanged.`;
    }
  }
}
