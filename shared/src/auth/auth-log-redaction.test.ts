import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newApiToken } from './api-token.ts';

const loggerModule = fileURLToPath(new URL('../obs/logger.ts', import.meta.url));

/** What a process logs for `records`, through Tern's logger, one JSON line each. */
function logged(records: unknown[]): string {
  const script = `
    import { createLogger } from ${JSON.stringify(loggerModule)};
    const logger = createLogger('test', 'info');
    for (const record of ${JSON.stringify(records)}) logger.info(record, 'record');
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

describe('the logger', () => {
  it('never writes an API token from headers, socket handshakes or config', () => {
    const token = newApiToken();
    const out = logged([
      { headers: { authorization: `Bearer ${token}` } },
      { req: { headers: { authorization: `Bearer ${token}` } } },
      { handshake: { auth: { token } } },
      { socket: { handshake: { auth: { token }, headers: { authorization: token } } } },
      { auth: { token } },
      { config: { TERN_TOKEN: token } },
      { token },
    ]);
    expect(out.trim().split('\n')).toHaveLength(7);
    expect(out).not.toContain(token);
    expect(out).toContain('[redacted]');
  });
});
