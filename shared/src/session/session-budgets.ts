import { z } from 'zod';

/**
 * Per-session limits of each turn, instead of the deployment's (MAX_STEPS_PER_TURN,
 * MAX_TURN_TOKENS, MAX_TURN_COST_USD, MAX_TURN_WALL_MS): a batch gives every target's agent the
 * budget its job asked for. Stored on the session's meta as JSON ('' or absent for none).
 */
export const sessionBudgetsSchema = z
  .object({
    maxSteps: z.int().min(1).max(10_000).optional(),
    maxTokens: z.int().min(1).optional(),
    maxCostUsd: z.number().positive().optional(),
    maxWallMs: z.int().min(1).optional(),
  })
  .strict();
export type SessionBudgets = z.infer<typeof sessionBudgetsSchema>;

/** The budgets stored on a session; none for an absent or unreadable value. */
export function parseSessionBudgets(json: string | undefined): SessionBudgets {
  if (!json) return {};
  try {
    const parsed = sessionBudgetsSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}
