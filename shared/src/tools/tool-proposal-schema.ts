import { z } from 'zod';

/**
 * Names of proposed tools: short, lower-case, and safe as a provider function name on every wire
 * (OpenAI, Anthropic and Gemini all accept `[a-z0-9_]`).
 */
export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{1,40}$/;
/** Code travels into the sandbox through its environment, where one string may hold 128 KiB. */
export const TOOL_CODE_MAX_BYTES = 64 * 1024;
/** The schema is sent to the model with every request of the session, so it stays small. */
export const TOOL_PARAMETERS_MAX_BYTES = 16 * 1024;
/** Bounds what one session's model can pile up for review, and each turn's loading cost. */
export const MAX_TOOL_PROPOSALS_PER_SESSION = 50;

export const toolRuntimeSchema = z.enum(['bash', 'python', 'node']);
export type ToolRuntime = z.infer<typeof toolRuntimeSchema>;

export const toolProposalStatusSchema = z.enum(['pending', 'approved', 'rejected']);
export type ToolProposalStatus = z.infer<typeof toolProposalStatusSchema>;

/** `tp_` and 32 hex digits of the SHA-256 of the definition: one id per distinct tool. */
export const toolProposalIdSchema = z
  .string()
  .regex(/^tp_[0-9a-f]{32}$/, 'tool proposal ids look like tp_<32 hex digits>');

/**
 * What a proposal defines: everything the model will see and the sandbox will run. Its hash is
 * the proposal's id, so a human approves exactly these bytes.
 */
export const toolDefinitionSchema = z
  .object({
    name: z
      .string()
      .regex(TOOL_NAME_PATTERN, 'a tool name is 2-41 of a-z, 0-9 and _, starting with a letter'),
    description: z.string().trim().min(1).max(2_000),
    /** JSON Schema of the arguments object. */
    parameters: z.record(z.string(), z.unknown()),
    runtime: toolRuntimeSchema,
    code: z.string().min(1),
  })
  .strict();
export type ToolDefinition = z.infer<typeof toolDefinitionSchema>;

/** The arguments of `propose_tool`: a definition and why the model wants it. */
export const toolProposalInputSchema = toolDefinitionSchema.extend({
  reason: z.string().trim().min(1).max(2_000),
});
export type ToolProposalInput = z.infer<typeof toolProposalInputSchema>;

/** A proposal as reviewers see it. */
export const toolProposalSchema = toolDefinitionSchema.extend({
  id: toolProposalIdSchema,
  sessionId: z.string(),
  reason: z.string(),
  status: toolProposalStatusSchema,
  proposedAt: z.number(),
  decidedAt: z.number().nullable(),
  decidedBy: z.string().nullable(),
  decisionReason: z.string().nullable(),
});
export type ToolProposal = z.infer<typeof toolProposalSchema>;
