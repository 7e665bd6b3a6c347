import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type IssuedToken, UserStore } from '@tern/shared/auth/user-store';
import { connectRedis } from '@tern/shared/redis/connect-redis';
import { adminTokenPath } from '../client/client-token.ts';

export type AdminBootstrap =
  | { issued: IssuedToken; path: string }
  | { issued: undefined; path: string };

/**
 * On a fresh install (no user at all) creates the `admin` user and saves its token to
 * `<dataDir>/admin-token`, readable by its owner only, where `tern run` and `tern chat` find it.
 * With any user present it changes nothing.
 */
export async function bootstrapAdmin(redisUrl: string, dataDir: string): Promise<AdminBootstrap> {
  const path = adminTokenPath(dataDir);
  const redis = await connectRedis(redisUrl, 'tern-up-bootstrap');
  try {
    const issued = await new UserStore(redis).bootstrapAdmin('admin');
    if (issued === 'users_exist') return { issued: undefined, path };
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${issued.token}\n`, { mode: 0o600 });
    // `mode` applies only when the file is created; a leftover file keeps its own.
    await chmod(path, 0o600);
    return { issued, path };
  } finally {
    redis.disconnect();
  }
}
