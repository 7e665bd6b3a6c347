import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetResult } from '@tern/shared/batch/batch-result';
import { BatchStore } from '@tern/shared/batch/batch-store';
import { finishedTargetState } from '@tern/shared/batch/batch-target-state';
import { makeTar } from '@tern/shared/batch/tar-test-kit';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import { WorkspaceObjects } from '@tern/shared/session/workspace-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchProject, writeBatchProject } from '../helpers/batch-api-fixtures.ts';
import { http } from '../helpers/http.ts';
import { runTern } from '../helpers/run-tern.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

// `tern batch` as its own process against the real API. No dispatcher runs: where a batch must
// end, the test finishes its targets through the store a dispatcher writes with.

let stack: Stack;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tern-batch-cli-'));
  stack = await startStack({ workers: 0 });
});
afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const api = (path: string) => `${stack.apiUrl}${path}`;

describe('tern batch', () => {
  const clientEnv = () => ({ TERN_API_URL: stack.apiUrl, TERN_TOKEN: stack.token });
  let repo: string;
  beforeAll(() => {
    repo = join(work, 'cli-repo');
    writeBatchProject(repo);
    mkdirSync(join(repo, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(repo, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
    mkdirSync(join(repo, '.git'));
    writeFileSync(join(repo, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    symlinkSync('math.ts', join(repo, 'src', 'alias.ts'));
    writeFileSync(join(repo, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  });

  it('run --no-wait packs the folder without .git and node_modules, and prints the batch id', async () => {
    const run = await runTern(
      ['batch', 'run', repo, '--no-wait', '--title', 'from the cli', '--functions'],
      clientEnv(),
    );
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^bat_[A-Za-z0-9]{16}$/);
    expect(run.stderr).toContain('left out .git, node_modules');
    expect(run.stderr).toContain(`batch ${id}: 2 target(s), vitest (npx vitest run)`);

    const blobs = new FileBlobStore(join(stack.dataDir, 'blobs'));
    const { base, objects } = await WorkspaceObjects.open(blobs, id);
    const tree = await objects.readTree(base.tree);
    // Links stay links, executables stay executable, from the folder to the workspace store.
    expect(tree.files.map((f) => [f.path, f.mode.toString(8)])).toEqual([
      ['package.json', '100644'],
      ['run.sh', '100755'],
      ['src/alias.ts', '120000'],
      ['src/math.ts', '100644'],
      ['src/text.ts', '100644'],
    ]);

    const status = await runTern(['batch', 'status', id], clientEnv());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${id} running "from the cli"`);
    expect(status.stdout).toMatch(/queued +t0 +src\/math\.ts#add/);
    const json = await runTern(['batch', 'status', id, '--json'], clientEnv());
    expect(JSON.parse(json.stdout)).toMatchObject({ id, title: 'from the cli' });

    const cancel = await runTern(['batch', 'cancel', id], clientEnv());
    expect([cancel.code, cancel.stdout.trim()]).toEqual([0, `${id} cancelling`]);
  });

  it('exits 2 with the reason on bad arguments and on a refused batch', async () => {
    const usage = await runTern(['batch', 'run', repo, '--framework', 'mocha'], clientEnv());
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('unknown framework mocha');
    const refused = await runTern(['batch', 'run', repo, '--targets', 'lib/**'], clientEnv());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('(no_targets)');
    const missing = await runTern(['batch', 'run', join(repo, 'absent')], clientEnv());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const unknown = await runTern(['batch', 'status', 'bat_0000000000000000'], clientEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('(batch_not_found)');
  });

  it('run follows the batch to its end, prints the summary, writes the reports and exits 1 when a target failed', async () => {
    const tgz = join(work, 'repo.tgz');
    writeFileSync(tgz, makeTar(batchProject, { gzip: true }));
    const out = join(work, 'reports');
    const title = 'followed to the end';
    const running = runTern(
      ['batch', 'run', tgz, '--targets', 'src/**', '--title', title, '--out', out],
      clientEnv(),
    );

    // The dispatcher's part, through the same store it writes with: both targets finish.
    let exited: { code: number | null; stderr: string } | undefined;
    void running.then((result) => {
      exited = result;
    });
    let id: string | undefined;
    while (!id) {
      if (exited) throw new Error(`tern batch run ended early (${exited.code}): ${exited.stderr}`);
      const listed = await http('GET', api('/v1/batches'));
      id = listed.body.batches.find((b: { title?: string }) => b.title === title)?.id;
      if (!id) await new Promise((r) => setTimeout(r, 100));
    }
    const store = new BatchStore(
      stack.redis.client,
      new FileBlobStore(join(stack.dataDir, 'blobs')),
    );
    const outcomes: [string, 'passed' | 'failed'][] = [
      ['t0', 'passed'],
      ['t1', 'failed'],
    ];
    for (const [targetId, status] of outcomes) {
      const state = await store.target(id, targetId);
      if (!state) throw new Error(`no target ${targetId}`);
      const testFile = state.testFile;
      const result: TargetResult = {
        target: { id: targetId, file: state.file },
        status,
        testFiles: [
          { path: testFile, content: `test('${targetId}', () => {});\n`, original: null },
        ],
        sourceFiles: [],
        lastRun: {
          command: 'npx vitest run',
          exitCode: status === 'passed' ? 0 : 1,
          output: 'ok',
          durationMs: 10,
        },
        tokens: { input: 100, output: 20 },
        costUsd: 0,
        durationMs: 1000,
      };
      await store.finishTarget(id, finishedTargetState(state, result, Date.now()), result);
    }
    await store.finishBatch(id, 1);

    const run = await running;
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`${id} done "${title}"`);
    expect(run.stdout).toMatch(/failed +t1 +src\/text\.ts/);
    expect(run.stdout).not.toMatch(/passed +t0/);
    // Not a terminal: one plain progress line per change, no carriage returns.
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr).toMatch(/2\/2 100% · passed 1 · failed 1/);

    const patch = readFileSync(join(out, `${id}.patch`), 'utf8');
    expect(patch).toContain('+++ b/src/math.test.ts');
    expect(patch).not.toContain('text.test.ts');
    const junit = readFileSync(join(out, `${id}.junit.xml`), 'utf8');
    expect(junit).toContain('tests="2" failures="1"');

    const exported = await runTern(
      ['batch', 'export', id, '--out', join(out, 'again')],
      clientEnv(),
    );
    expect(exported.code, exported.stderr).toBe(0);
    expect(readFileSync(join(out, 'again', `${id}.patch`), 'utf8')).toBe(patch);

    const result = await http('GET', api(`/v1/batches/${id}/targets/t1`));
    expect([result.status, result.body.status]).toEqual([200, 'failed']);
  });
});
