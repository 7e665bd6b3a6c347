import { describe, expect, it } from 'vitest';
import { parseBatchArgs } from './batch-args.ts';

const args = (line: string) => {
  const parsed = parseBatchArgs(line.split(' ').filter(Boolean));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.args;
};
const refusal = (line: string) => {
  const parsed = parseBatchArgs(line.split(' ').filter(Boolean));
  if (parsed.ok) throw new Error(`accepted: ${JSON.stringify(parsed.args)}`);
  return parsed.message;
};

describe('parseBatchArgs', () => {
  it('reads a full run: repeated globs, functions, framework, command, model, concurrency', () => {
    expect(
      args(
        'run ./repo --targets src/**/*.ts --targets lib/*.ts --exclude src/gen/** --functions --framework vitest --test-command npx --model vllm:qwen --concurrency 32 --title nightly --out reports --no-wait',
      ),
    ).toEqual({
      kind: 'run',
      source: './repo',
      targets: ['src/**/*.ts', 'lib/*.ts'],
      exclude: ['src/gen/**'],
      functions: true,
      framework: 'vitest',
      testCommand: 'npx',
      model: 'vllm:qwen',
      concurrency: 32,
      title: 'nightly',
      out: 'reports',
      wait: false,
    });
  });

  it('defaults a run to every source file, adaptive concurrency, and waiting', () => {
    expect(args('run repo.tgz')).toEqual({
      kind: 'run',
      source: 'repo.tgz',
      targets: ['**/*'],
      exclude: [],
      functions: false,
      concurrency: 'auto',
      wait: true,
    });
    expect(args('run repo --concurrency auto')).toMatchObject({ concurrency: 'auto' });
  });

  it('reads the other subcommands', () => {
    expect(args('status bat_0123456789abcdef --json')).toEqual({
      kind: 'status',
      id: 'bat_0123456789abcdef',
      json: true,
    });
    expect(args('list --all')).toEqual({ kind: 'list', all: true });
    expect(args('cancel bat_x')).toEqual({ kind: 'cancel', id: 'bat_x' });
    expect(args('retry bat_x')).toEqual({ kind: 'retry', id: 'bat_x' });
    expect(args('retry bat_x --statuses failed,error')).toEqual({
      kind: 'retry',
      id: 'bat_x',
      statuses: ['failed', 'error'],
    });
    expect(args('export bat_x --out out')).toEqual({ kind: 'export', id: 'bat_x', out: 'out' });
  });

  it('refuses what the server would refuse anyway, with a message naming the option', () => {
    expect(refusal('run')).toContain('give the folder or tarball');
    expect(refusal('run a b')).toContain('unexpected b');
    expect(refusal('run repo --framework mocha')).toContain('unknown framework mocha');
    expect(refusal('run repo --concurrency 0')).toContain('--concurrency');
    expect(refusal('run repo --concurrency 2000')).toContain('--concurrency');
    expect(refusal('run repo --concurrency 1.5')).toContain('--concurrency');
    expect(refusal('run repo --json')).toContain('--json does not apply');
    expect(refusal('status')).toContain('give the batch id');
    expect(refusal('retry bat_x --statuses failed,nope')).toContain('unknown status nope');
    expect(refusal('export bat_x')).toContain('--out');
    expect(refusal('frobnicate')).toContain('unknown subcommand frobnicate');
    expect(refusal('')).toContain('unknown subcommand (none)');
    expect(refusal('run repo --bogus')).toContain("Unknown option '--bogus'");
  });
});
