import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '@tern/shared/session/blob-checksum';
import type { BlobStore } from '@tern/shared/session/blob-store';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { blobKeys } from '@tern/shared/session/session-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { type Stack, type StackProcess, startStack } from '../helpers/stack.ts';

type ToolFinished = Extract<LogEntry, { kind: 'tool_finished' }>;

const SEED = {
  'README.md': 'seed line\nsecond line\n',
  'obsolete.txt': 'to be deleted\n',
  'src/main.py': 'print("unchanged")\n',
};

/**
 * The scripted model: turn 1 writes, edits and deletes files with write_file, edit_file and bash
 * (in the sandbox); turn 2 reads them back; turn 3 edits one file. The simulator picks the step
 * from the number of assistant messages in the request, so each turn carries on the script.
 */
const durable = {
  steps: [
    {
      toolCalls: [
        { name: 'write_file', arguments: { path: 'notes.md', content: 'first draft\n' } },
        {
          name: 'edit_file',
          arguments: { path: 'README.md', old_text: 'seed line', new_text: 'edited line' },
        },
      ],
    },
    {
      toolCalls: [
        {
          name: 'bash',
          arguments: {
            command:
              'mkdir -p out && printf "built\\n" > out/result.txt && ln -s ../README.md out/readme-link && rm obsolete.txt',
          },
        },
      ],
    },
    { text: 'Turn one is done.', finish: 'stop' },
    {
      toolCalls: [
        { name: 'read_file', arguments: { path: 'notes.md' } },
        { name: 'read_file', arguments: { path: 'README.md' } },
        { name: 'read_file', arguments: { path: 'out/result.txt' } },
        { name: 'read_file', arguments: { path: 'out/readme-link' } },
        { name: 'read_file', arguments: { path: 'obsolete.txt' } },
      ],
    },
    { text: 'Turn two read everything.', finish: 'stop' },
    {
      toolCalls: [
        {
          name: 'edit_file',
          arguments: { path: 'notes.md', old_text: 'first draft', new_text: 'second draft' },
        },
      ],
    },
    { text: 'Turn three edited the notes.', finish: 'stop' },
  ],
};

const MAX_FILES = 20;

/** Turn 1 makes more files than the limit allows; turn 2 looks for them. */
const tooLarge = {
  steps: [
    {
      toolCalls: [
        {
          name: 'bash',
          arguments: { command: `for i in $(seq 1 ${MAX_FILES + 5}); do echo $i > f$i; done` },
        },
      ],
    },
    {
      toolCalls: [
        { name: 'read_file', arguments: { path: 'kept.txt' } },
        { name: 'read_file', arguments: { path: 'f1' } },
      ],
    },
    { text: 'Only the saved file is there.', finish: 'stop' },
  ],
};

const scenarios = { 'ws-durable': durable, 'ws-too-large': tooLarge };

describe.each([
  ['the folder store', false],
  ['S3 (s3rver)', true],
])('a session’s workspace on %s', (_name, onS3) => {
  let s3: TestS3 | undefined;
  let stack: Stack;
  let collector: Collector;
  let blobs: BlobStore;

  beforeAll(async () => {
    if (onS3) s3 = await startS3();
    stack = await startStack({
      workers: 2,
      env: { ...s3?.env('ws'), WORKSPACE_MAX_FILES: String(MAX_FILES) },
    });
    collector = await connectCollector(stack.gatewayUrl);
    blobs = s3 ? s3.openStore('ws') : new FileBlobStore(join(stack.dataDir, 'blobs'));
    for (const [name, steps] of Object.entries(scenarios)) {
      const installed = await http('PUT', `${stack.simUrl}/sim/scenarios/${name}`, steps);
      expect(installed.status).toBe(200);
    }
  });

  afterAll(async () => {
    collector?.close();
    await stack?.stop();
    await s3?.stop();
  });

  async function turn(id: string, text: string): Promise<{ turnId: string; entries: LogEntry[] }> {
    const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text });
    expect(posted.status).toBe(202);
    const turnId = posted.body.turnId as string;
    await collector.waitFor((all) => finishedTurns(all).includes(turnId), 60_000);
    const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    const entries = (detail.body.entries as LogEntry[]).filter((e) => e.turnId === turnId);
    return { turnId, entries };
  }

  /** The worker process that logged the end of this turn. */
  function ranBy(turnId: string): StackProcess {
    const workers = stack.processes.filter((p) => p.name.startsWith('worker'));
    const found = workers.filter((p) =>
      readFileSync(p.logFile, 'utf8')
        .split('\n')
        .some((line) => line.includes(`"turnId":"${turnId}"`) && line.includes('turn finished')),
    );
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  /**
   * When each of the session's workspace blobs was last written, read from the files behind the
   * store (the folder store's, or s3rver's), so that a blob uploaded again is seen too.
   */
  async function writtenAt(id: string): Promise<Map<string, bigint>> {
    const keys = await blobs.list(blobKeys.workspaceBlobsPrefix(id));
    const file = (key: string) =>
      s3
        ? join(s3.dir, s3.bucket, 'ws', `${key}._S3rver_object`)
        : join(stack.dataDir, 'blobs', key);
    return new Map(keys.map((key) => [key, statSync(file(key), { bigint: true }).mtimeNs]));
  }

  const outputs = (entries: LogEntry[]) =>
    entries.filter((e): e is ToolFinished => e.kind === 'tool_finished');
  const blobCount = async (id: string) =>
    (await blobs.list(blobKeys.workspaceBlobsPrefix(id))).length;

  it('restores a killed worker’s edits on the other worker, and uploads only changed files', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      title: 'durable workspace',
      files: SEED,
      sim: { scenario: 'ws-durable' },
    });
    expect(created.status).toBe(201);
    const id = created.body.session.id as string;
    expect((await collector.subscribe(id, '0-0')).ok).toBe(true);
    // The seed is stored content-addressed: one blob per distinct content.
    expect(await blobCount(id)).toBe(3);

    // Turn 1: tools write, edit and delete files; each step that changed them names its tree.
    const first = await turn(id, 'Write the notes and build');
    expect(outputs(first.entries).map((e) => [e.name, e.ok])).toEqual([
      ['write_file', true],
      ['edit_file', true],
      ['bash', true],
    ]);
    const trees = first.entries.flatMap((e) => (e.workspace ? [e.workspace] : []));
    expect(trees).toHaveLength(2);
    expect(first.entries.filter((e) => e.workspace).map((e) => e.kind)).toEqual([
      'tool_finished',
      'tool_finished',
    ]);
    for (const tree of trees)
      expect(await blobs.get(blobKeys.workspaceTree(id, tree))).toBeDefined();

    // The worker that ran it dies; the next turn runs on the other one, which never saw the session.
    const victim = ranBy(first.turnId);
    const exited = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await exited;

    const second = await turn(id, 'Read it all back');
    expect(ranBy(second.turnId)).not.toBe(victim);
    const read = outputs(second.entries).map((e) => [e.ok, e.output]);
    expect(read.slice(0, 4)).toEqual([
      [true, expect.stringContaining('first draft')],
      [true, expect.stringContaining('edited line\nsecond line')],
      [true, expect.stringContaining('built')],
      [true, expect.stringContaining('edited line')],
    ]);
    expect(read[1]![1]).not.toContain('seed line');
    expect(read[4]![0]).toBe(false);
    // Read-only tools changed nothing, so no step of the turn names a tree.
    expect(second.entries.some((e) => e.workspace)).toBe(false);

    // Turn 3 changes one file: exactly one blob is written, the edited file's content; none of
    // the blobs the store had is written again.
    const before = await writtenAt(id);
    const third = await turn(id, 'Edit the notes');
    expect(outputs(third.entries).map((e) => [e.name, e.ok])).toEqual([['edit_file', true]]);
    const after = await writtenAt(id);
    expect(after.size).toBe(before.size + 1);
    const written = [...after].filter(([key, at]) => before.get(key) !== at).map(([key]) => key);
    expect(written).toEqual([blobKeys.workspaceBlob(id, sha256Hex('second draft\n'))]);
    expect(third.entries.filter((e) => e.workspace)).toHaveLength(1);
  });

  it('ends a turn whose workspace outgrew its limit with an error, keeping the last saved tree', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      files: { 'kept.txt': 'saved before\n' },
      sim: { scenario: 'ws-too-large' },
    });
    const id = created.body.session.id as string;
    expect((await collector.subscribe(id, '0-0')).ok).toBe(true);
    const blobsBefore = await blobCount(id);

    const first = await turn(id, 'Make many files');
    expect(first.entries.map((e) => e.kind)).toEqual([
      'user_message',
      'assistant_message',
      'tool_started',
      'tool_finished',
      'error',
    ]);
    expect(first.entries.at(-1)).toMatchObject({
      kind: 'error',
      code: 'workspace_too_large',
      message: expect.stringContaining(`(the limit is ${MAX_FILES}, WORKSPACE_MAX_FILES)`),
    });
    expect(first.entries.some((e) => e.workspace)).toBe(false);
    const finished = collector.envelopes.find(
      (e) => e.event.type === 'turn_finished' && e.event.turnId === first.turnId,
    );
    expect(finished?.event).toMatchObject({ reason: 'error', steps: 1 });
    // Nothing of the oversized state was stored.
    expect(await blobCount(id)).toBe(blobsBefore);
    const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    expect(detail.body.session).toMatchObject({ status: 'idle', inputs: 1 });

    // The next turn starts from the last saved tree, on whichever worker.
    const second = await turn(id, 'Look again');
    expect(outputs(second.entries).map((e) => [e.ok, e.output])).toEqual([
      [true, expect.stringContaining('saved before')],
      [false, expect.any(String)],
    ]);
  });
});
