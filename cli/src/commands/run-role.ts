import { loadConfig } from '@tern/shared/config/config';
import { spawnChild } from '../launch/child-process.ts';
import { nextBin, roleEntries, uiDir } from '../launch/role-entries.ts';
import { ensureUiBuilt } from './up.ts';

/**
 * Runs one role in the foreground, as its own process (the CLI never loads api or worker code),
 * forwarding Ctrl+C and SIGTERM so the role shuts down gracefully.
 */
export async function runRole(role: keyof typeof roleEntries | 'ui'): Promise<number> {
  const child =
    role === 'ui'
      ? await uiChild()
      : spawnChild(role, process.execPath, [roleEntries[role]], { env: process.env });
  const forward = (signal: NodeJS.Signals) => () => child.process.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return (await child.exited) ?? 1;
}

/** The Next.js server of the UI, built first if this checkout has no build yet. */
async function uiChild() {
  const config = loadConfig();
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  await ensureUiBuilt(env);
  const args = [nextBin(), 'start', '-p', String(config.UI_PORT), '-H', config.TERN_HOST];
  return spawnChild('ui', process.execPath, args, { env, cwd: uiDir });
}
