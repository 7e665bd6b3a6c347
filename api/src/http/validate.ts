import { TernError } from '@tern/shared/errors/tern-error';
import type { z } from 'zod';

/** Parses untrusted input or fails with a 400 that lists every problem by path. */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new TernError({
    code: 'invalid_request',
    status: 400,
    message: `invalid ${what}: ${parsed.error.issues
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ')}`,
    details: {
      issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    },
  });
}
