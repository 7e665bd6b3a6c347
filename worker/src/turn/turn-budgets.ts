import type { Config } from '@tern/shared/config/config';
import { parseSessionBudgets } from '@tern/shared/session/session-budgets';
import type { SessionMeta } from '@tern/shared/session/session-store';
import type { TurnInput } from '../agent/agent-types.ts';

export type TurnBudgets = Pick<
  TurnInput,
  'maxSteps' | 'maxTokens' | 'maxCostUsd' | 'maxWallTimeMs'
>;

/**
 * The limits of a session's turn: each budget the session carries (a batch target's, from its
 * job) in place of the deployment's default for that budget; the defaults for the rest.
 */
export function turnBudgets(config: Config, meta: Pick<SessionMeta, 'budgets'>): TurnBudgets {
  const own = parseSessionBudgets(meta.budgets);
  const maxTokens = own.maxTokens ?? config.MAX_TURN_TOKENS;
  const maxCostUsd = own.maxCostUsd ?? config.MAX_TURN_COST_USD;
  const maxWallTimeMs = own.maxWallMs ?? config.MAX_TURN_WALL_MS;
  return {
    maxSteps: own.maxSteps ?? config.MAX_STEPS_PER_TURN,
    ...(maxTokens ? { maxTokens } : {}),
    ...(maxCostUsd ? { maxCostUsd } : {}),
    ...(maxWallTimeMs ? { maxWallTimeMs } : {}),
  };
}
