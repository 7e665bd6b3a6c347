import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '@tern/shared/config/config';
import { ApiError } from './api-client.ts';

/** Where `tern up` saves the admin token it created, readable by its owner only. */
export function adminTokenPath(dataDir: string): string {
  return join(resolve(dataDir), 'admin-token');
}

/** The CLI's API token: `TERN_TOKEN`, else the admin token `tern up` saved. */
export function clientToken(config: Config): string {
  if (config.TERN_TOKEN) return config.TERN_TOKEN.trim();
  const path = adminTokenPath(config.TERN_DATA_DIR);
  try {
    const saved = readFileSync(path, 'utf8').trim();
    if (saved) return saved;
  } catch {
    // No saved token: explained below.
  }
  throw new ApiError(
    0,
    'no_token',
    `no API token: set TERN_TOKEN (an admin creates one with \`tern users add <name>\`), or run \`tern up\`, which saves the first admin's token to ${path}`,
  );
}
