/**
 * The states of one turn. Every change is an event (`turn_state`), so a watcher always knows
 * whether the agent is thinking, streaming, running tools, summarising its context or waiting
 * for a human.
 */
export const turnStates = [
  'awaiting_model',
  'streaming',
  'compacting',
  'running_tools',
  'awaiting_approval',
  'done',
  'failed',
  'cancelled',
] as const;
export type TurnState = (typeof turnStates)[number];

const terminal: ReadonlySet<TurnState> = new Set(['done', 'failed', 'cancelled']);

const ends: readonly TurnState[] = ['done', 'failed', 'cancelled'];

const allowed: Record<TurnState, readonly TurnState[]> = {
  // A resumed turn may go straight to its unfinished tool calls, or back to waiting for a human.
  awaiting_model: ['streaming', 'compacting', 'running_tools', 'awaiting_approval', ...ends],
  streaming: ['running_tools', 'awaiting_approval', 'awaiting_model', 'compacting', ...ends],
  compacting: ['awaiting_model', ...ends],
  running_tools: ['awaiting_model', 'awaiting_approval', ...ends],
  awaiting_approval: ['running_tools', 'awaiting_model', ...ends],
  done: [],
  failed: [],
  cancelled: [],
};

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

/** A turn's state with its legal transitions; `onChange` sees every transition once. */
export class TurnStateMachine {
  #state: TurnState;
  readonly #onChange: (from: TurnState, to: TurnState) => void;

  /** `initial` is where the previous run of the turn left it (`awaiting_approval` on resume). */
  constructor(
    onChange: (from: TurnState, to: TurnState) => void,
    initial: TurnState = 'awaiting_model',
  ) {
    this.#onChange = onChange;
    this.#state = initial;
  }

  get state(): TurnState {
    return this.#state;
  }

  get finished(): boolean {
    return terminal.has(this.#state);
  }

  to(next: TurnState): void {
    if (next === this.#state) return;
    if (!allowed[this.#state].includes(next)) {
      throw new IllegalTransitionError(`a turn cannot go from ${this.#state} to ${next}`);
    }
    const from = this.#state;
    this.#state = next;
    this.#onChange(from, next);
  }
}
