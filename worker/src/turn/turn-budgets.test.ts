import { loadConfig } from '@tern/shared/config/config';
import { describe, expect, it } from 'vitest';
import { turnBudgets } from './turn-budgets.ts';

const config = loadConfig({
  MAX_STEPS_PER_TURN: '25',
  MAX_TURN_TOKENS: '100000',
  MAX_TURN_WALL_MS: '600000',
});

describe('turnBudgets', () => {
  it("keeps the deployment's limits for a session without budgets", () => {
    expect(turnBudgets(config, {})).toEqual({
      maxSteps: 25,
      maxTokens: 100_000,
      maxWallTimeMs: 600_000,
    });
    expect(turnBudgets(config, { budgets: '' })).toEqual(turnBudgets(config, {}));
  });

  it("puts each budget the session carries in place of the deployment's", () => {
    const budgets = JSON.stringify({ maxSteps: 3, maxCostUsd: 0.25, maxWallMs: 5_000 });
    expect(turnBudgets(config, { budgets })).toEqual({
      maxSteps: 3,
      maxTokens: 100_000,
      maxCostUsd: 0.25,
      maxWallTimeMs: 5_000,
    });
  });

  it("falls back to the deployment's limits when the stored budgets are unreadable", () => {
    expect(turnBudgets(config, { budgets: '{"maxSteps":0}' })).toEqual(turnBudgets(config, {}));
    expect(turnBudgets(config, { budgets: 'not json' })).toEqual(turnBudgets(config, {}));
  });
});
