/**
 * The states of one turn. Every change is an event (`turn_state`), so a watcher always knows
 * whether the agent is thinking, streaming, running tools or waiting for a human.
 */
export const turnStates = [
  'awaiting_model',
  'streaming',
  'running_tools',
  'awaiting_approval',
  'done',
  'failed',
  'cancelled',
] as const;
export type TurnState = (typeof turnStates)[number];

const terminal: ReadonlySet<TurnState> = new Set(['done', 'failed', 'cancelled']);

const allowed: Record<TurnState, readonly TurnState[]> = {
  awaiting_model: ['streaming', 'failed', 'cancelled', 'done'],
  streaming: [
    'running_tools',
    'awaiting_approval',
    'awaiting_model',
    'done',
    'failed',
    'cancelled',
  ],
  running_tools: ['awaiting_model', 'awaiting_approval', 'failed', 'cancelled', 'done'],
  awaiting_approval: ['running_tools', 'awaiting_model', 'failed', 'cancelled'],
  done: [],
  failed: [],
  cancelled: [],
};

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

/** A turn's state with its legal transitions; `onChange` sees every transition once. */
export class TurnStateMachine {
  #state: TurnState = 'awaiting_model';
  readonly #onChange: (from: TurnState, to: TurnState) => void;

  constructor(onChange: (from: TurnState, to: TurnState) => void) {
    this.#onChange = onChange;
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
