import { describe, expect, it } from 'vitest';
import {
  approvalPolicySchema,
  compileApprovalPolicy,
  mergeApprovalPolicies,
} from './approval-policy.ts';

describe('approval policy', () => {
  const policy = approvalPolicySchema.parse({
    rules: [
      { tool: 'bash', match: { command: 'rm\\s+-rf' }, action: 'ask' },
      { tool: 'bash', match: { command: '^curl ' }, action: 'deny', reason: 'no network' },
      { tool: 'write_file', match: { path: '^/etc/', mode: '^append$' }, action: 'deny' },
      { tool: 'bash', action: 'auto' },
    ],
    default: 'ask',
  });
  const decide = compileApprovalPolicy(policy);

  it('lets the first matching rule decide, with the default for the rest', () => {
    expect(decide('bash', { command: 'sudo rm -rf /' })).toEqual({
      action: 'ask',
      reason: 'bash: command matches /rm\\s+-rf/',
    });
    expect(decide('bash', { command: 'curl x' })).toEqual({ action: 'deny', reason: 'no network' });
    expect(decide('bash', { command: 'ls' }).action).toBe('auto');
    expect(decide('read_file', { path: 'a' })).toEqual({
      action: 'ask',
      reason: 'the default policy',
    });
  });

  it('needs every pattern of a rule to match; missing arguments never match', () => {
    expect(decide('write_file', { path: '/etc/passwd', mode: 'append' }).action).toBe('deny');
    expect(decide('write_file', { path: '/etc/passwd' }).action).toBe('ask');
    expect(decide('write_file', { path: '/tmp/x', mode: 'append' }).action).toBe('ask');
  });

  it('matches non-string arguments by their JSON', () => {
    const rule = approvalPolicySchema.parse({
      rules: [{ tool: '*', match: { paths: '"/etc' }, action: 'deny' }],
    });
    expect(compileApprovalPolicy(rule)('any', { paths: ['/etc/x'] }).action).toBe('deny');
    expect(compileApprovalPolicy(rule)('any', { paths: ['/tmp'] }).action).toBe('auto');
  });

  it('rejects policies that are not valid JSON config', () => {
    const bad = approvalPolicySchema.safeParse({
      rules: [{ tool: 'bash', match: { command: '(' }, action: 'ask' }],
    });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('not a valid regular expression');
    expect(
      approvalPolicySchema.safeParse({ rules: [{ tool: 'bash', action: 'maybe' }] }).success,
    ).toBe(false);
    expect(approvalPolicySchema.safeParse({ default: 'auto', extra: 1 }).success).toBe(false);
  });

  it('tries deployment rules first and keeps the stricter default when merged', () => {
    const deployment = approvalPolicySchema.parse({
      rules: [{ tool: 'bash', action: 'ask' }],
      default: 'auto',
    });
    const session = approvalPolicySchema.parse({
      rules: [{ tool: 'bash', action: 'auto' }],
      default: 'deny',
    });
    const merged = compileApprovalPolicy(mergeApprovalPolicies(deployment, session));
    expect(merged('bash', {}).action).toBe('ask');
    expect(merged('other', {}).action).toBe('deny');
  });
});
