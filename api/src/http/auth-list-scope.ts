import type { Caller, UserStore } from '@tern/shared/auth/user-store';
import { notFound, TernError } from '@tern/shared/errors/tern-error';
import { redisKeys } from '@tern/shared/session/session-keys';

/**
 * Which sessions `GET /v1/sessions` lists: the caller's own; for admins, with `?owner=<name>`
 * another user's, with `?all=true` everyone's (sessions from before users included).
 */
export async function sessionIndexFor(
  caller: Caller,
  query: { all?: 'true' | 'false' | undefined; owner?: string | undefined },
  users: UserStore,
): Promise<string> {
  const other = query.owner !== undefined && query.owner !== caller.name;
  if (!other && query.all !== 'true') return redisKeys.ownerIndex(caller.id);
  if (!caller.admin) {
    throw new TernError({
      code: 'admin_only',
      status: 403,
      message: "only admins may list other users' sessions",
    });
  }
  if (!other) return redisKeys.sessionIndex;
  const user = await users.byName(query.owner ?? '');
  if (!user) throw notFound('user', query.owner ?? '');
  return redisKeys.ownerIndex(user.id);
}
