import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { hashToken } from './api-token.ts';
import { authKeys } from './auth-keys.ts';
import { followRevocations } from './revocation-feed.ts';
import { type IssuedToken, UserStore } from './user-store.ts';

let redis: TestRedis;
let users: UserStore;

beforeAll(async () => {
  redis = await startRedis();
  users = new UserStore(redis.client);
});

afterAll(async () => {
  await redis?.stop();
});

const issued = (result: IssuedToken | string): IssuedToken => {
  if (typeof result === 'string') throw new Error(result);
  return result;
};

/** Every key and value in Redis, flattened, to look for a secret. */
async function everythingStored(): Promise<string> {
  const keys = await redis.client.keys('*');
  const parts: string[] = [...keys];
  for (const key of keys) {
    const type = await redis.client.type(key);
    if (type === 'hash') parts.push(...Object.entries(await redis.client.hgetall(key)).flat());
    if (type === 'string') parts.push((await redis.client.get(key)) ?? '');
  }
  return parts.join('\n');
}

describe('UserStore', () => {
  it('creates a user whose token authenticates it, and stores only the hash', async () => {
    const alice = issued(await users.addUser('alice', { admin: false }));
    expect(alice.user).toMatchObject({ name: 'alice', admin: false });
    expect(await users.authenticate(alice.token)).toEqual({
      ...alice.user,
      tokenHash: hashToken(alice.token),
    });
    const stored = await everythingStored();
    expect(stored).not.toContain(alice.token);
    expect(stored).toContain(hashToken(alice.token));
  });

  it('refuses a second user of the same name', async () => {
    issued(await users.addUser('bob', { admin: true }));
    expect(await users.addUser('bob', { admin: false })).toBe('name_taken');
    expect((await users.byName('bob'))?.admin).toBe(true);
  });

  it('knows nothing of an unknown token', async () => {
    expect(await users.authenticate(`tern_${'q'.repeat(43)}`)).toBeUndefined();
  });

  it('issues more tokens to a user, each revocable alone', async () => {
    const first = issued(await users.addUser('carol', { admin: false }));
    const second = issued((await users.addToken('carol')) ?? 'no user');
    expect(second.user.id).toBe(first.user.id);
    expect(await users.addToken('nobody')).toBeUndefined();

    const listed = (await users.list()).find((u) => u.name === 'carol');
    expect(listed?.tokens.map((t) => t.id).sort()).toEqual([first.tokenId, second.tokenId].sort());

    expect(await users.revoke(first.tokenId)).toMatchObject({
      kind: 'token',
      tokenId: first.tokenId,
    });
    expect(await users.authenticate(first.token)).toBeUndefined();
    expect((await users.authenticate(second.token))?.name).toBe('carol');
  });

  it('revokes every token of a user by name, keeping the user', async () => {
    const first = issued(await users.addUser('dave', { admin: false }));
    const second = issued((await users.addToken('dave')) ?? 'no user');
    const result = await users.revoke('dave');
    expect(result).toMatchObject({ kind: 'user', user: { name: 'dave' } });
    expect(result.kind === 'user' && result.tokenIds.sort()).toEqual(
      [first.tokenId, second.tokenId].sort(),
    );
    expect(await users.authenticate(first.token)).toBeUndefined();
    expect(await users.authenticate(second.token)).toBeUndefined();
    expect((await users.list()).find((u) => u.name === 'dave')?.tokens).toEqual([]);
    // The user (and its sessions) remain; an admin may issue it a new token.
    const again = issued((await users.addToken('dave')) ?? 'no user');
    expect((await users.authenticate(again.token))?.id).toBe(first.user.id);
  });

  it('answers not_found for an unknown user or token id', async () => {
    expect(await users.revoke('nobody')).toEqual({ kind: 'not_found' });
    expect(await users.revoke('tok_0000000000000000')).toEqual({ kind: 'not_found' });
  });

  it('announces revoked token hashes to subscribers', async () => {
    const eve = issued(await users.addUser('eve', { admin: false }));
    const heard: string[][] = [];
    const stop = await followRevocations(redis.client, {
      revoked: (hashes) => heard.push(hashes),
      resync: () => {},
    });
    try {
      await users.revoke('eve');
      await expect.poll(() => heard).toEqual([[hashToken(eve.token)]]);
    } finally {
      stop();
    }
  });
});

describe('bootstrapAdmin', () => {
  it('creates one admin on an empty Redis, however many processes try at once', async () => {
    const fresh = await startRedis();
    try {
      const store = new UserStore(fresh.client);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => new UserStore(fresh.client).bootstrapAdmin('admin')),
      );
      const created = results.filter((r) => r !== 'users_exist');
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({ user: { name: 'admin', admin: true } });
      expect(await store.hasUsers()).toBe(true);
      expect(await store.bootstrapAdmin('admin')).toBe('users_exist');
      expect(await fresh.client.hlen(authKeys.names)).toBe(1);
    } finally {
      await fresh.stop();
    }
  });
});
