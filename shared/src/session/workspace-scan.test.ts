import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from './blob-checksum.ts';
import { WorkspaceTooLargeError } from './workspace-limit-error.ts';
import { RACY_MS, scanFolder } from './workspace-scan.ts';
import { DIR_MODE, EXEC_MODE, FILE_MODE, LINK_MODE, type WorkspaceFile } from './workspace-tree.ts';

let dir: string;
let outside: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tern-scan-'));
  outside = await mkdtemp(join(tmpdir(), 'tern-scan-outside-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

/** A clock far enough ahead that no file counts as just written. */
const later = () => Date.now() + 10 * RACY_MS;

async function scan(previous?: Awaited<ReturnType<typeof scanFolder>>['files'], now = later) {
  const hashed: WorkspaceFile[] = [];
  const result = await scanFolder(dir, previous, {
    sessionId: 'ses_test',
    now,
    onHashed: async (file) => {
      hashed.push(file);
    },
  });
  return { ...result, hashedFiles: hashed.map((f) => f.path).sort() };
}

describe('scanFolder', () => {
  it('records files, executables, symlinks and empty folders with their content hashes', async () => {
    await mkdir(join(dir, 'src/empty'), { recursive: true });
    await writeFile(join(dir, 'src/a.txt'), 'alpha');
    await writeFile(join(dir, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(dir, 'run.sh'), 0o755);
    await symlink('src/a.txt', join(dir, 'link'));
    const { files, skipped } = await scan();
    expect(
      [...files.values()].map(({ path, hash, size, mode }) => ({ path, hash, size, mode })),
    ).toEqual(
      expect.arrayContaining([
        { path: 'src/a.txt', hash: sha256Hex('alpha'), size: 5, mode: FILE_MODE },
        { path: 'run.sh', hash: sha256Hex('#!/bin/sh\n'), size: 10, mode: EXEC_MODE },
        { path: 'link', hash: sha256Hex('src/a.txt'), size: 9, mode: LINK_MODE },
        { path: 'src/empty', hash: sha256Hex(''), size: 0, mode: DIR_MODE },
      ]),
    );
    expect(files.size).toBe(4);
    expect(skipped).toEqual([]);
  });

  it('stores symlinks that leave the workspace as links, never reading what they point at', async () => {
    await writeFile(join(outside, 'secret'), 'do not read');
    await mkdir(join(outside, 'dir'));
    await writeFile(join(outside, 'dir/inner'), 'nor this');
    await symlink(join(outside, 'secret'), join(dir, 'abs-link'));
    await symlink(join(outside, 'dir'), join(dir, 'dir-link'));
    await symlink('../../../../etc/passwd', join(dir, 'up-link'));
    const { files, hashedFiles } = await scan();
    expect([...files.keys()].sort()).toEqual(['abs-link', 'dir-link', 'up-link']);
    expect(files.get('abs-link')).toMatchObject({
      mode: LINK_MODE,
      hash: sha256Hex(join(outside, 'secret')),
    });
    expect(hashedFiles).toEqual(['abs-link', 'dir-link', 'up-link']);
  });

  it('hashes only what changed since the last scan, and drops what was deleted', async () => {
    for (const name of ['a', 'b', 'c']) await writeFile(join(dir, name), `${name} v1`);
    const first = await scan();
    expect(first.hashed).toBe(3);

    await writeFile(join(dir, 'b'), 'b v2 longer');
    await unlink(join(dir, 'c'));
    await writeFile(join(dir, 'd'), 'd v1');
    const second = await scan(first.files, () => later() + 10 * RACY_MS);
    expect(second.hashedFiles).toEqual(['b', 'd']);
    expect([...second.files.keys()].sort()).toEqual(['a', 'b', 'd']);
    expect(second.files.get('b')?.hash).toBe(sha256Hex('b v2 longer'));
    expect(second.files.get('a')).toBe(first.files.get('a'));
  });

  it('sees a same-size rewrite that kept the old mtime (by its ctime)', async () => {
    await writeFile(join(dir, 'a'), 'one');
    const first = await scan();
    const old = first.files.get('a')!;
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(join(dir, 'a'), 'two');
    await utimes(join(dir, 'a'), new Date(old.mtimeMs), new Date(old.mtimeMs));
    const second = await scan(first.files, () => later() + 10 * RACY_MS);
    expect(second.files.get('a')?.hash).toBe(sha256Hex('two'));
  });

  it('hashes again a file seen just after it was written, in case it changed in the same tick', async () => {
    await writeFile(join(dir, 'a'), 'one');
    const first = await scan(undefined, () => Date.now());
    // Nothing changed, but the record is too fresh to vouch for the content.
    const second = await scan(first.files);
    expect(second.hashedFiles).toEqual(['a']);
    // Once a record is old enough it is trusted.
    const third = await scan(second.files, () => later() + 10 * RACY_MS);
    expect(third.hashedFiles).toEqual([]);
  });

  it('leaves out fifos, naming them', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    await writeFile(join(dir, 'a'), 'a');
    const { files, skipped } = await scan();
    expect([...files.keys()]).toEqual(['a']);
    expect(skipped).toEqual(['pipe']);
  });

  it('refuses a folder past the limits before reading or uploading anything', async () => {
    for (let i = 0; i < 6; i++) await writeFile(join(dir, `f${i}`), 'x'.repeat(100));
    const read: string[] = [];
    const onHashed = async (file: WorkspaceFile) => {
      read.push(file.path);
    };
    const tooMany = scanFolder(dir, undefined, {
      sessionId: 'ses_big',
      limits: { maxFiles: 5, maxBytes: 1_000_000 },
      onHashed,
    });
    await expect(tooMany).rejects.toSatisfy(WorkspaceTooLargeError.is);
    await expect(tooMany).rejects.toMatchObject({
      code: 'workspace_too_large',
      details: { sessionId: 'ses_big', files: 6, maxFiles: 5 },
    });
    const tooBig = scanFolder(dir, undefined, {
      sessionId: 'ses_big',
      limits: { maxFiles: 100, maxBytes: 500 },
      onHashed,
    });
    await expect(tooBig).rejects.toThrow(/600 bytes \(the limit is 500, WORKSPACE_MAX_BYTES\)/);
    expect(read).toEqual([]);
  });
});
