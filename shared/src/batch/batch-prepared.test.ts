import { describe, expect, it } from 'vitest';
import { parseBatchJobRequest } from './batch-job-request.ts';
import { renderTargetSim } from './batch-prepared.ts';

describe('renderTargetSim', () => {
  it("names each target's scenario after its function, or its file's stem", () => {
    const sim = { scenario: 'batch-{{function}}-{{index}}', ttftMs: 5 };
    expect(renderTargetSim(sim, { index: 3, file: 'src/math.ts', name: 'add' })).toEqual({
      scenario: 'batch-add-3',
      ttftMs: 5,
    });
    expect(renderTargetSim(sim, { index: 0, file: 'pkg/strings.py' })).toEqual({
      scenario: 'batch-strings-0',
      ttftMs: 5,
    });
    expect(renderTargetSim(sim, { index: 1, file: 'a.ts', name: '$wrap' })?.scenario).toBe(
      'batch-_wrap-1',
    );
    expect(renderTargetSim({ fault: 'slow' }, { index: 0, file: 'a.ts' })).toEqual({
      fault: 'slow',
    });
    expect(renderTargetSim(undefined, { index: 0, file: 'a.ts' })).toBeUndefined();
  });

  it('accepts a scenario template in the request, and nothing else in braces', () => {
    const base = {
      source: { kind: 'directory', path: '/srv/repo' },
      targets: { globs: ['src/*.ts'] },
    };
    expect(parseBatchJobRequest({ ...base, sim: { scenario: 'batch-{{function}}' } }).sim).toEqual({
      scenario: 'batch-{{function}}',
    });
    expect(() => parseBatchJobRequest({ ...base, sim: { scenario: 'batch-{{source}}' } })).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
  });
});
