import { userNameSchema } from '@tern/shared/auth/api-token-format';
import { type IssuedToken, UserStore } from '@tern/shared/auth/user-store';
import { loadConfig } from '@tern/shared/config/config';
import { connectRedis } from '@tern/shared/redis/connect-redis';

export type UsersArgs = {
  subcommand: string | undefined;
  target: string | undefined;
  admin: boolean;
};

type Out = (line: string) => void;

/**
 * `tern users add|list|revoke|token`: manages users and API tokens directly in Redis (REDIS_URL),
 * so it runs where an operator has Redis access, not through the API. A new token goes to stdout
 * alone (`TOKEN=$(tern users add ci)`); everything else to stderr.
 */
export async function usersCommand(
  args: UsersArgs,
  out: Out = (line) => process.stdout.write(`${line}\n`),
  note: Out = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  const { subcommand, target } = args;
  if (!['add', 'token', 'revoke', 'list'].includes(subcommand ?? '')) {
    note(`tern users: unknown subcommand ${subcommand ?? ''} (add, list, token, revoke)`);
    return 2;
  }
  const needsName = subcommand === 'add' || subcommand === 'token' || subcommand === 'revoke';
  if (needsName && !target) {
    note(
      `tern users ${subcommand}: give a user name${subcommand === 'revoke' ? ' or a token id' : ''}`,
    );
    return 2;
  }
  const name = userNameSchema.safeParse(target);
  if (subcommand === 'add' && !name.success) {
    note(`tern users add: ${name.error.issues[0]?.message ?? 'invalid name'}`);
    return 2;
  }
  const config = loadConfig();
  const redis = await connectRedis(config.REDIS_URL, 'tern-users');
  try {
    const users = new UserStore(redis);
    switch (subcommand) {
      case 'add': {
        const issued = await users.addUser(target ?? '', { admin: args.admin });
        if (issued === 'name_taken') {
          note(
            `tern users add: a user named ${target} exists (tern users token ${target} adds a token)`,
          );
          return 1;
        }
        printIssued(issued, 'created', out, note);
        return 0;
      }
      case 'token': {
        const issued = await users.addToken(target ?? '');
        if (!issued) {
          note(`tern users token: no user named ${target}`);
          return 1;
        }
        printIssued(issued, 'issued a token to', out, note);
        return 0;
      }
      case 'revoke': {
        const result = await users.revoke(target ?? '');
        if (result.kind === 'not_found') {
          note(`tern users revoke: no user or token ${target}`);
          return 1;
        }
        if (result.kind === 'token') {
          out(`revoked token ${result.tokenId} of ${result.user?.name ?? 'an unknown user'}`);
        } else {
          const ids = result.tokenIds.length > 0 ? `: ${result.tokenIds.join(', ')}` : '';
          out(`revoked ${result.tokenIds.length} token(s) of ${result.user.name}${ids}`);
        }
        return 0;
      }
      default: {
        const all = await users.list();
        if (all.length === 0) {
          note('no users yet: tern users add <name> [--admin] (tern up creates an admin)');
          return 0;
        }
        const rows = all.map((u) => [
          u.name,
          u.id,
          u.admin ? 'admin' : 'user',
          new Date(u.createdAt).toISOString(),
          u.tokens.map((t) => t.id).join(' ') || '(no tokens: revoked)',
        ]);
        for (const line of table(['NAME', 'ID', 'ROLE', 'CREATED', 'TOKENS'], rows)) out(line);
        return 0;
      }
    }
  } finally {
    redis.disconnect();
  }
}

function printIssued(issued: IssuedToken, verb: string, out: Out, note: Out): void {
  const role = issued.user.admin ? 'admin' : 'user';
  note(`${verb} ${issued.user.name} (${issued.user.id}, ${role}); token ${issued.tokenId}:`);
  out(issued.token);
  note('Keep it now: Tern stores only its hash and cannot show it again.');
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(head), ...rows.map(line)];
}
