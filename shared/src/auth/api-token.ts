import { createHash, randomBytes } from 'node:crypto';
import { apiTokenSchema } from './api-token-format.ts';

/**
 * The server keeps only a token's sha256. A slow, salted hash protects guessable passwords; a
 * random 256-bit token cannot be guessed, and an unsalted hash lets a request find its token with
 * one lookup.
 */
export function newApiToken(): string {
  return `tern_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenIdOf(hash: string): string {
  return `tok_${hash.slice(0, 16)}`;
}

/** The token of an `Authorization: Bearer <token>` header, when it is well-formed. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  const parsed = apiTokenSchema.safeParse(match?.[1]);
  return parsed.success ? parsed.data : undefined;
}
