import { describe, expect, it } from 'vitest';
import { rlimitPlan } from './rlimits.ts';
import { DEFAULT_SANDBOX_LIMITS } from './sandbox-types.ts';

describe('rlimitPlan', () => {
  it('leaves memory and the precise process count to cgroups when there are some', () => {
    const plan = rlimitPlan(DEFAULT_SANDBOX_LIMITS, { pids: true, memory: true });
    expect(plan.args).toEqual([
      '--cpu=600:601',
      '--nproc=4096:4096',
      '--fsize=1073741824:1073741824',
      '--nofile=1024:1024',
      '--core=0:0',
    ]);
  });

  it('limits processes and the data segment per process without cgroups', () => {
    const plan = rlimitPlan(DEFAULT_SANDBOX_LIMITS, { pids: false, memory: false });
    expect(plan.args).toContain('--nproc=256:256');
    expect(plan.args).toContain('--data=2147483648:2147483648');
    expect(plan.names).toEqual(['cpu', 'nproc', 'fsize', 'nofile', 'core', 'data']);
  });
});
