import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ToolDefinition } from '@tern/shared/tools/tool-proposal-schema';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../../../test/sandbox/sandbox-fixtures.ts';
import { probeSandbox } from '../sandbox/probe-sandbox.ts';
import { DEFAULT_SANDBOX_POLICY } from '../sandbox/sandbox-types.ts';
import { proposedTool } from './proposed-tool.ts';

const status = await probeSandbox({ allowUnsafe: false });
const data = tempDataDir();
afterAll(() => data.remove());

const words: ToolDefinition = {
  name: 'word_count',
  description: 'Counts words',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  runtime: 'python',
  code: 'import json, sys\nprint(len(json.load(sys.stdin)["text"].split()))\n',
};

const call = async (
  definition: Partial<ToolDefinition>,
  args: Record<string, unknown> = {},
  workspace = data.workspace('ws'),
) => {
  const tool = proposedTool({
    definition: { ...words, ...definition },
    workspace: () => workspace,
    policy: DEFAULT_SANDBOX_POLICY,
  });
  return tool.execute(args, { signal: new AbortController().signal, sessionId: 'ses_test0000' });
};

describe.skipIf(status.mode !== 'bwrap')('a proposed tool in the sandbox', () => {
  it('runs python with the arguments on stdin and answers its stdout', async () => {
    expect(await call({}, { text: 'one two three' })).toEqual({ ok: true, output: '3\n' });
  });

  it('runs node and bash with the arguments in $TERN_TOOL_ARGS_FILE and $TERN_TOOL_ARGS', async () => {
    const node = await call(
      {
        runtime: 'node',
        code: "const fs = require('node:fs');\nconst a = JSON.parse(fs.readFileSync(process.env.TERN_TOOL_ARGS_FILE, 'utf8'));\nconsole.log(a.n * 2);",
      },
      { n: 21 },
    );
    expect(node).toEqual({ ok: true, output: '42\n' });
    const esm = await call(
      {
        runtime: 'node',
        code: "import { readFileSync } from 'node:fs';\nconsole.log(readFileSync(0, 'utf8'));",
      },
      { esm: true },
    );
    expect(esm).toEqual({ ok: true, output: '{"esm":true}\n' });
    const bash = await call(
      { runtime: 'bash', code: 'echo "$TERN_TOOL_ARGS"; cat; echo; pwd; id -u' },
      { a: 'x y' },
    );
    expect(bash).toEqual({
      ok: true,
      output: '{"a":"x y"}\n{"a":"x y"}\n/workspace\n65534\n',
    });
  });

  it('reports a non-zero exit as a failed call that shows stderr', async () => {
    const result = await call({
      runtime: 'python',
      code: 'import sys\nprint("partial")\nsys.exit("bad input: text is required")',
    });
    expect(result.ok).toBe(false);
    expect(result.output).toBe(
      'Exit code 1.\n--- stdout ---\npartial\n\n--- stderr ---\nbad input: text is required\n',
    );
  });

  it('works in the session workspace and nowhere else on the host', async () => {
    const workspace = data.workspace('files');
    await mkdir(join(workspace, 'src'), { recursive: true });
    await writeFile(join(workspace, 'src/a.txt'), 'alpha');
    const shadowHead = readFileSync('/etc/shadow', 'utf8').split(':')[0]!;
    const result = await call(
      {
        runtime: 'bash',
        code: `cat src/a.txt; echo; echo made > out.txt; cat /etc/shadow; ls ${data.dir}`,
      },
      {},
      workspace,
    );
    expect(result.ok).toBe(false);
    expect(result.output).toContain('alpha');
    expect(result.output).not.toContain(`${shadowHead}:`);
    expect(result.output).toContain(`ls: cannot access '${data.dir}': No such file or directory`);
    expect(await readFile(join(workspace, 'out.txt'), 'utf8')).toBe('made\n');
  });

  it('cannot reach the network, the loopback of the host included', async () => {
    const result = await call({
      runtime: 'python',
      code: [
        'import socket',
        'for host, port in [("127.0.0.1", 6379), ("1.1.1.1", 53)]:',
        '    try:',
        '        socket.create_connection((host, port), timeout=2)',
        '        print("connected", host)',
        '    except OSError as e:',
        '        print("refused", host, type(e).__name__)',
      ].join('\n'),
    });
    expect(result.output).not.toContain('connected');
    expect(result.output).toMatch(/refused 127\.0\.0\.1 ConnectionRefusedError/);
    expect(result.output).toMatch(/refused 1\.1\.1\.1 OSError/);
  });

  it('keeps its code out of its own environment', async () => {
    const result = await call({ runtime: 'bash', code: 'env | cut -d= -f1 | sort' });
    expect(result.output.split('\n')).not.toContain('TERN_TOOL_CODE');
    expect(result.output.split('\n')).toContain('TERN_TOOL_ARGS_FILE');
  });

  it('refuses arguments too large to hand over, without running', async () => {
    const result = await call({}, { text: 'x'.repeat(100 * 1024) });
    expect(result).toMatchObject({ ok: false });
    expect(result.output).toMatch(/^The arguments are \d+ bytes of JSON; word_count takes at most/);
  });
});
