import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The alert rules and the Prometheus config are checked by Prometheus's own tool, and the rules
// unit-tested with `promtool test rules` (infra/prometheus/alerts.test.yml).

const run = promisify(execFile);
const dir = resolve(import.meta.dirname, '../../infra/prometheus');
const promtool = '/usr/bin/promtool';

describe.skipIf(!existsSync(promtool))('infra/prometheus with promtool', () => {
  it('accepts the alert rules', async () => {
    const { stdout } = await run(promtool, ['check', 'rules', join(dir, 'alerts.yml')]);
    expect(stdout).toContain('SUCCESS: 6 rules found');
  });

  it('accepts the scrape config and the rule files it names', async () => {
    const { stdout } = await run(promtool, ['check', 'config', join(dir, 'prometheus.yml')]);
    expect(stdout).toContain('SUCCESS: 1 rule files found');
  });

  it('passes the alert rules unit tests', async () => {
    // promtool exits non-zero on a failed test; execFile rejects with its output then.
    const { stdout } = await run(promtool, ['test', 'rules', join(dir, 'alerts.test.yml')], {
      cwd: dir,
    });
    expect(stdout).toContain('SUCCESS');
  });
});
