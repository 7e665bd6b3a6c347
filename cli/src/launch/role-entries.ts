import { fileURLToPath } from 'node:url';

const repo = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** The process entrypoints the CLI spawns; the CLI never imports api or worker code. */
export const roleEntries = {
  api: repo('api/src/api-main.ts'),
  gateway: repo('api/src/gateway-main.ts'),
  worker: repo('worker/src/worker-main.ts'),
  sim: repo('sim/src/sim-main.ts'),
} as const;

export type Role = keyof typeof roleEntries | 'ui';

export const uiDir = repo('ui');
export const repoRoot = repo('.');
