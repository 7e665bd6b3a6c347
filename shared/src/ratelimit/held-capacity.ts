import type { CallPermit } from '../llm/call-limiter.ts';
import type { CallPlan } from './provider-limits.ts';

/** How a limiter corrects its buckets and frees slots; `deltas` in the order of the plan's buckets. */
export type Hold = {
  settle(deltas: readonly number[]): void;
  coolingMs(): Promise<number>;
};

/**
 * One granted attempt, settled once: by its real usage when it ran (token buckets charged or
 * refunded the difference to the estimate, the request kept), or in full when it never went out.
 */
export class HeldCapacity implements CallPermit {
  readonly #plan: CallPlan;
  readonly #hold: Hold;
  #done = false;

  constructor(plan: CallPlan, hold: Hold) {
    this.#plan = plan;
    this.#hold = hold;
  }

  settle(usedTokens: number | undefined): void {
    this.#end(
      this.#plan.buckets.map((b) =>
        b.kind === 'tokens' && usedTokens !== undefined ? usedTokens - b.charge : 0,
      ),
    );
  }

  cancel(): void {
    this.#end(this.#plan.buckets.map((b) => -b.charge));
  }

  coolingMs(): Promise<number> {
    return this.#hold.coolingMs();
  }

  #end(deltas: number[]): void {
    if (this.#done) return;
    this.#done = true;
    this.#hold.settle(deltas);
  }
}
