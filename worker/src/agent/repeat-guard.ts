import type { ToolCall } from '@tern/shared/session/log-entry';

/** JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` are the same call. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    const record = value as Record<string, unknown>;
    const parts = keys
      .filter((k) => record[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Spots a model calling the same tool with the same arguments over and over. Fed every call of
 * the turn in the model's order (including refused ones, so refusing does not reset the count),
 * it is a pure function of that sequence: a resumed turn rebuilds the same verdicts from the log.
 */
export class RepeatGuard {
  readonly #limit: number;
  #last = '';
  #run = 0;

  /** `limit`: the limit-th identical call in a row is refused. */
  constructor(limit: number) {
    this.#limit = Math.max(2, limit);
  }

  /** Records the call; true when it must not run. */
  see(call: Pick<ToolCall, 'name' | 'args' | 'invalid'>): boolean {
    // Calls whose arguments did not parse never run anyway; they break a run of repeats.
    const key = call.invalid === undefined ? `${call.name} ${canonicalJson(call.args)}` : '';
    if (key !== '' && key === this.#last) this.#run += 1;
    else this.#run = 1;
    this.#last = key;
    return this.#run >= this.#limit;
  }
}
