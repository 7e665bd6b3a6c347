import { z } from 'zod';

/**
 * An API token: `tern_` and 43 base64url characters (256 random bits). The prefix lets secret
 * scanners and people recognise one. Kept apart from the hashing (node:crypto) so that the UI
 * can check a pasted token too.
 */
export const apiTokenSchema = z.string().regex(/^tern_[A-Za-z0-9_-]{43}$/, 'not a Tern API token');

/** `tok_` and the first 16 hex digits of the token's sha256: anyone holding a token can name it. */
export const tokenIdSchema = z.string().regex(/^tok_[0-9a-f]{16}$/, 'not a token id');

export const userNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,39}$/,
    'user names are 1-40 lowercase letters, digits, dots, dashes or underscores',
  );
