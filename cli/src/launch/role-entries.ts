import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** The process entrypoints the CLI spawns; the CLI never imports api or worker code. */
export const roleEntries = {
  api: repo('api/src/api-main.ts'),
  gateway: repo('api/src/gateway-main.ts'),
  worker: repo('worker/src/worker-main.ts'),
  dispatcher: repo('worker/src/dispatcher-main.ts'),
  sim: repo('sim/src/sim-main.ts'),
} as const;

export type Role = keyof typeof roleEntries | 'ui';

export const uiDir = repo('ui');
export const repoRoot = repo('.');

/** next is hoisted to the repo root by npm workspaces; ui/node_modules is the fallback. */
export function nextBin(): string {
  const local = join(uiDir, 'node_modules', 'next', 'dist', 'bin', 'next');
  return existsSync(local) ? local : repo('node_modules/next/dist/bin/next');
}
