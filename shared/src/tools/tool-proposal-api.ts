import { z } from 'zod';
import { toolProposalSchema, toolProposalStatusSchema } from './tool-proposal-schema.ts';

/** `GET /v1/sessions/:id/tool-proposals?status=pending` */
export const listToolProposalsQuerySchema = z
  .object({ status: toolProposalStatusSchema.optional() })
  .strict();

export const listToolProposalsResponseSchema = z.object({
  proposals: z.array(toolProposalSchema),
});
export type ListToolProposalsResponse = z.infer<typeof listToolProposalsResponseSchema>;

/** `GET …/tool-proposals/:proposalId` and the answer to a decision. */
export const toolProposalResponseSchema = z.object({ proposal: toolProposalSchema });
export type ToolProposalResponse = z.infer<typeof toolProposalResponseSchema>;

/**
 * `POST …/tool-proposals/:proposalId/decision`. Deciding is final: the same answer again is
 * answered like the first, a different one is a 409 `already_decided`.
 */
export const toolProposalDecisionBodySchema = z
  .object({
    approve: z.boolean(),
    reason: z.string().trim().min(1).max(2_000).optional(),
  })
  .strict();
export type ToolProposalDecisionBody = z.infer<typeof toolProposalDecisionBodySchema>;
