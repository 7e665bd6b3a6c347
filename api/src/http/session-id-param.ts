import { notFound } from '@tern/shared/errors/tern-error';
import { sessionIdSchema } from '@tern/shared/protocol/api';

/** A route's `:id`; a malformed id is simply a session that does not exist (404, not 400). */
export function sessionIdParam(raw: string | string[] | undefined): string {
  const parsed = sessionIdSchema.safeParse(raw);
  if (!parsed.success) throw notFound('session', String(raw));
  return parsed.data;
}
