import { z } from 'zod';

/**
 * Approval policies, shared by the API (which validates them in session settings) and the worker
 * (which applies them before each tool call).
 */
export const approvalActionSchema = z.enum(['auto', 'ask', 'deny']);
export type ApprovalAction = z.infer<typeof approvalActionSchema>;

/** A regular expression stored as its source, since policies travel as JSON. */
const patternSchema = z
  .string()
  .min(1)
  // Long patterns are where catastrophic backtracking hides; policies need short ones.
  .max(500)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${message}` });
    }
  });

/**
 * One rule: a tool name (`*` for any) and optional argument patterns, all of which must match.
 * A pattern is tested against the argument's text (strings as they are, other values as JSON);
 * a missing argument does not match. Example: `{ tool: 'bash', match: { command: 'rm\\s+-rf' },
 * action: 'ask' }`.
 */
export const approvalRuleSchema = z
  .object({
    tool: z.string().min(1).max(200),
    match: z.record(z.string(), patternSchema).optional(),
    action: approvalActionSchema,
    /** Shown to the approver and, on `deny`, to the model. */
    reason: z.string().max(1_000).optional(),
  })
  .strict();
export type ApprovalRule = z.infer<typeof approvalRuleSchema>;

/** Rules are tried in order; the first that matches decides, else `default`. */
export const approvalPolicySchema = z
  .object({
    rules: z.array(approvalRuleSchema).max(200).default([]),
    default: approvalActionSchema.default('auto'),
  })
  .strict();
export type ApprovalPolicy = z.infer<typeof approvalPolicySchema>;
