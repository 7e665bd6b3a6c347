import { describe, expect, it } from 'vitest';
import { parseBatchJobRequest } from './batch-job-request.ts';

const valid = {
  source: { kind: 'tarball', base64: Buffer.from('tar bytes').toString('base64') },
  targets: { globs: ['src/**/*.ts'] },
};

const codeOf = (value: unknown) => {
  try {
    parseBatchJobRequest(value);
    return 'accepted';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('parseBatchJobRequest', () => {
  it('fills the defaults of a minimal job', () => {
    expect(parseBatchJobRequest(valid)).toEqual({
      ...valid,
      targets: {
        globs: ['src/**/*.ts'],
        files: [],
        functions: false,
        functionTargets: [],
        exclude: [],
        maxTargets: 1000,
      },
      budgets: { perTarget: { maxSteps: 40, maxWallSeconds: 1800 }, job: {} },
      allowTouchingSource: false,
      concurrency: 'auto',
    });
  });

  it('accepts every option', () => {
    const job = parseBatchJobRequest({
      title: 'tests for calc',
      source: { kind: 'directory', path: '/srv/repos/calc' },
      targets: {
        files: ['calc.py'],
        functions: true,
        functionTargets: [{ file: 'calc.py', name: 'Calc.add' }],
      },
      framework: 'pytest',
      testCommand: 'python3 -m pytest -q -x',
      promptTemplate: 'Test {{target}} with {{framework}}',
      budgets: { perTarget: { maxSteps: 10, maxCostUsd: 0.5 }, job: { maxCostUsd: 20 } },
      allowTouchingSource: true,
      model: 'openai-compatible:qwen3-coder',
      concurrency: 8,
    });
    expect(job.budgets.perTarget).toEqual({ maxSteps: 10, maxCostUsd: 0.5, maxWallSeconds: 1800 });
    expect(job.concurrency).toBe(8);
  });

  it('answers each bad input with its own code', () => {
    expect(codeOf({ targets: valid.targets })).toBe('missing_source');
    expect(codeOf({ ...valid, source: { kind: 'git', url: 'x' } })).toBe('invalid_source');
    expect(codeOf({ ...valid, source: { kind: 'directory', path: 'relative/dir' } })).toBe(
      'invalid_source',
    );
    expect(codeOf({ ...valid, source: { kind: 'tarball', base64: 'not base64!' } })).toBe(
      'invalid_source',
    );
    expect(codeOf({ ...valid, framework: 'mocha' })).toBe('unknown_framework');
    expect(codeOf({ ...valid, targets: {} })).toBe('no_targets');
    expect(codeOf({ ...valid, targets: { globs: [], files: [] } })).toBe('no_targets');
    expect(codeOf({ source: valid.source })).toBe('no_targets');
    expect(codeOf({ ...valid, promptTemplate: 'Test {{repo}}' })).toBe('unknown_placeholder');
    expect(codeOf({ ...valid, targets: { files: ['../etc/passwd'] } })).toBe('invalid_request');
    expect(codeOf({ ...valid, targets: { globs: ['/abs/**'] } })).toBe('invalid_request');
    expect(codeOf({ ...valid, concurrency: 0 })).toBe('invalid_request');
    expect(codeOf({ ...valid, model: 'nope' })).toBe('invalid_request');
    expect(codeOf({ ...valid, extra: true })).toBe('invalid_request');
    expect(codeOf('not an object')).toBe('invalid_request');
  });

  it('says what is wrong, with a 400 and the issues', () => {
    try {
      parseBatchJobRequest({ ...valid, framework: 'mocha' });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        status: 400,
        message: expect.stringContaining('framework: Invalid option'),
        details: { issues: [{ path: ['framework'] }] },
      });
    }
  });
});
