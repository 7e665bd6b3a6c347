/**
 * A request the Messages API would refuse with a 400 `invalid_request_error`. Thrown deep inside
 * validation and caught once by the parser, so each check stays one line.
 */
export class InvalidRequest extends Error {}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
