import { spawnChild } from '../launch/child-process.ts';
import { roleEntries } from '../launch/role-entries.ts';

/**
 * Runs one role in the foreground, as its own process (the CLI never loads api or worker code),
 * forwarding Ctrl+C and SIGTERM so the role shuts down gracefully.
 */
export async function runRole(role: keyof typeof roleEntries): Promise<number> {
  const child = spawnChild(role, process.execPath, [roleEntries[role]], { env: process.env });
  const forward = (signal: NodeJS.Signals) => () => child.process.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return (await child.exited) ?? 1;
}
