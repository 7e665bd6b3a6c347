const BRAND = Symbol.for('tern.error');

export type TernErrorInit = {
  code: string;
  message: string;
  status?: number;
  retryable?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
};

/**
 * The one error base of Tern. `code` is machine-readable and stable; `status` is the HTTP status
 * where the error maps to one. Recognised across duplicated package copies through a global
 * symbol brand rather than `instanceof`.
 */
export class TernError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly [BRAND] = true;

  constructor(init: TernErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TernError';
    this.code = init.code;
    this.status = init.status ?? 500;
    this.retryable = init.retryable ?? false;
    this.details = init.details;
  }

  static isInstance(value: unknown): value is TernError {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const notFound = (what: string, id: string): TernError =>
  new TernError({
    code: `${what}_not_found`,
    message: `${what} ${id} does not exist`,
    status: 404,
  });
