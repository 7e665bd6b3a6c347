import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { LuaScript } from '../redis/lua-script.ts';
import { hashToken, newApiToken, tokenIdOf } from './api-token.ts';
import { tokenIdSchema } from './api-token-format.ts';
import { authKeys } from './auth-keys.ts';

const createUser = new LuaScript('create-user-4.lua');
const issueToken = new LuaScript('issue-token-3.lua');

/** Who a request acts for. */
export type AuthUser = { id: string; name: string; admin: boolean };

/** An authenticated caller: the user and the hash of the token it presented. */
export type Caller = AuthUser & { tokenHash: string };

/** A token as printed once to the operator; only its hash is stored. */
export type IssuedToken = { user: AuthUser; tokenId: string; token: string };

export type TokenInfo = { id: string; createdAt: number };
export type UserInfo = AuthUser & { createdAt: number; tokens: TokenInfo[] };

export type RevokeResult =
  | { kind: 'user'; user: AuthUser; tokenIds: string[] }
  | { kind: 'token'; user: AuthUser | undefined; tokenId: string }
  | { kind: 'not_found' };

const registryEntrySchema = z.object({
  userId: z.string(),
  hash: z.string(),
  createdAt: z.number(),
});
type RegistryEntry = z.infer<typeof registryEntrySchema>;

/**
 * Users and their API tokens in Redis. No process caches what a token resolves to: every
 * request reads it (one HGETALL), so a revoked token stops working on the next request of every
 * API process. Revocations are also published, for gateways to close live sockets.
 *
 * Users are never renamed nor deleted: revoking a user revokes all of its tokens, and its
 * sessions stay its own (an admin may issue it a new token).
 */
export class UserStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  static newUserId(): string {
    return `usr_${randomBytes(10).toString('hex')}`;
  }

  /** Creates a user and its first token; `name_taken` when the name exists. */
  async addUser(name: string, options: { admin: boolean }): Promise<IssuedToken | 'name_taken'> {
    const created = await this.#create(name, options.admin, 'any');
    return created === 'users_exist' ? 'name_taken' : created;
  }

  /**
   * Creates `name` as an admin when no user exists at all (a fresh install); `users_exist`
   * otherwise. Atomic: of two processes bootstrapping at once, one creates the user.
   */
  async bootstrapAdmin(name: string): Promise<IssuedToken | 'users_exist'> {
    const created = await this.#create(name, true, 'first');
    return created === 'name_taken' ? 'users_exist' : created;
  }

  async #create(
    name: string,
    admin: boolean,
    mode: 'any' | 'first',
  ): Promise<IssuedToken | 'name_taken' | 'users_exist'> {
    const user: AuthUser = { id: UserStore.newUserId(), name, admin };
    const token = newApiToken();
    const hash = hashToken(token);
    const tokenId = tokenIdOf(hash);
    const now = Date.now();
    const entry: RegistryEntry = { userId: user.id, hash, createdAt: now };
    const result = await createUser.run(
      this.#redis,
      [authKeys.names, authKeys.user(user.id), authKeys.token(hash), authKeys.tokens],
      [name, user.id, admin ? '1' : '0', hash, tokenId, now, JSON.stringify(entry), mode],
    );
    if (result === 0) return 'name_taken';
    if (result === -1) return 'users_exist';
    return { user, tokenId, token };
  }

  /** Issues another token to an existing user; `undefined` when there is no such user. */
  async addToken(name: string): Promise<IssuedToken | undefined> {
    const user = await this.byName(name);
    if (!user) return undefined;
    const token = newApiToken();
    const hash = hashToken(token);
    const tokenId = tokenIdOf(hash);
    const entry: RegistryEntry = { userId: user.id, hash, createdAt: Date.now() };
    const issued = await issueToken.run(
      this.#redis,
      [authKeys.user(user.id), authKeys.token(hash), authKeys.tokens],
      [tokenId, JSON.stringify(entry)],
    );
    return issued === 1 ? { user, tokenId, token } : undefined;
  }

  /** The caller a token stands for, or `undefined` for an unknown or revoked token. */
  async authenticate(token: string): Promise<Caller | undefined> {
    const hash = hashToken(token);
    return this.authenticateHash(hash);
  }

  /** As `authenticate`, from the token's hash (what a gateway keeps for a live socket). */
  async authenticateHash(hash: string): Promise<Caller | undefined> {
    const record = await this.#redis.hgetall(authKeys.token(hash));
    if (!record.userId || !record.name) return undefined;
    return { id: record.userId, name: record.name, admin: record.admin === '1', tokenHash: hash };
  }

  async byName(name: string): Promise<AuthUser | undefined> {
    const id = await this.#redis.hget(authKeys.names, name);
    return id ? this.byId(id) : undefined;
  }

  async byId(id: string): Promise<AuthUser | undefined> {
    const raw = await this.#redis.hgetall(authKeys.user(id));
    if (!raw.id || !raw.name) return undefined;
    return { id: raw.id, name: raw.name, admin: raw.admin === '1' };
  }

  async hasUsers(): Promise<boolean> {
    return (await this.#redis.hlen(authKeys.names)) > 0;
  }

  /** Every user with its live tokens, by name. */
  async list(): Promise<UserInfo[]> {
    const ids = Object.values(await this.#redis.hgetall(authKeys.names));
    const registry = await this.#registry();
    const users = await Promise.all(
      ids.map(async (id) => {
        const raw = await this.#redis.hgetall(authKeys.user(id));
        if (!raw.id || !raw.name) return undefined;
        const tokens = [...registry]
          .filter(([, entry]) => entry.userId === id)
          .map(([tokenId, entry]) => ({ id: tokenId, createdAt: entry.createdAt }))
          .sort((a, b) => a.createdAt - b.createdAt);
        return {
          id: raw.id,
          name: raw.name,
          admin: raw.admin === '1',
          createdAt: Number(raw.createdAt),
          tokens,
        };
      }),
    );
    return users
      .filter((u): u is UserInfo => u !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Revokes one token (by its id) or every token of a user (by name). The deletions and the
   * announcement to gateways happen in one transaction. A token issued to the same user while
   * its tokens are being revoked may survive; it was issued after the revocation was decided.
   */
  async revoke(target: string): Promise<RevokeResult> {
    if (tokenIdSchema.safeParse(target).success) {
      const raw = await this.#redis.hget(authKeys.tokens, target);
      const entry = raw ? parseEntry(raw) : undefined;
      if (!entry) return { kind: 'not_found' };
      await this.#revoke([[target, entry]]);
      return { kind: 'token', user: await this.byId(entry.userId), tokenId: target };
    }
    const user = await this.byName(target);
    if (!user) return { kind: 'not_found' };
    const mine = [...(await this.#registry())].filter(([, e]) => e.userId === user.id);
    await this.#revoke(mine);
    return { kind: 'user', user, tokenIds: mine.map(([id]) => id) };
  }

  async #revoke(tokens: [string, RegistryEntry][]): Promise<void> {
    if (tokens.length === 0) return;
    const hashes = tokens.map(([, e]) => e.hash);
    await this.#redis
      .multi()
      .del(...hashes.map((h) => authKeys.token(h)))
      .hdel(authKeys.tokens, ...tokens.map(([id]) => id))
      .publish(authKeys.revokedChannel, JSON.stringify(hashes))
      .exec();
  }

  async #registry(): Promise<Map<string, RegistryEntry>> {
    const raw = await this.#redis.hgetall(authKeys.tokens);
    const out = new Map<string, RegistryEntry>();
    for (const [id, json] of Object.entries(raw)) {
      const entry = parseEntry(json);
      if (entry) out.set(id, entry);
    }
    return out;
  }
}

function parseEntry(json: string): RegistryEntry | undefined {
  try {
    const parsed = registryEntrySchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The token hashes a revocation announcement names (an unreadable one names none). */
export function parseRevokedMessage(message: string): string[] {
  try {
    const parsed = z.array(z.string()).safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}
