import { describe, expect, it } from 'vitest';
import { bearerToken, hashToken, newApiToken, tokenIdOf } from './api-token.ts';
import { apiTokenSchema, tokenIdSchema } from './api-token-format.ts';

describe('API tokens', () => {
  it('are tern_ and 256 random bits, never the same twice', () => {
    const tokens = new Set(Array.from({ length: 200 }, newApiToken));
    expect(tokens.size).toBe(200);
    for (const token of tokens) expect(apiTokenSchema.safeParse(token).success).toBe(true);
  });

  it('are named by the first 16 hex digits of their sha256', () => {
    const token = newApiToken();
    const hash = hashToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).toBe(hash);
    expect(tokenIdOf(hash)).toBe(`tok_${hash.slice(0, 16)}`);
    expect(tokenIdSchema.safeParse(tokenIdOf(hash)).success).toBe(true);
  });
});

describe('bearerToken', () => {
  const token = newApiToken();

  it('reads the token of a Bearer header, whatever the scheme case', () => {
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
    expect(bearerToken(`bearer  ${token} `)).toBe(token);
  });

  it('gives nothing for a missing, other-scheme or malformed credential', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
    expect(bearerToken(`Basic ${token}`)).toBeUndefined();
    expect(bearerToken(token)).toBeUndefined();
    expect(bearerToken(`Bearer ${token}x`)).toBeUndefined();
    expect(bearerToken(`Bearer ${token} extra`)).toBeUndefined();
    expect(bearerToken('Bearer sk-not-a-tern-token')).toBeUndefined();
  });
});
