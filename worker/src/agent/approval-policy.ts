import type { ApprovalAction, ApprovalPolicy } from '@tern/shared/protocol/approval-policy';

export {
  type ApprovalAction,
  type ApprovalPolicy,
  type ApprovalRule,
  approvalActionSchema,
  approvalPolicySchema,
  approvalRuleSchema,
} from '@tern/shared/protocol/approval-policy';

export type PolicyVerdict = { action: ApprovalAction; reason: string };

export type CompiledPolicy = (tool: string, args: Record<string, unknown>) => PolicyVerdict;

const strictness: Record<ApprovalAction, number> = { auto: 0, ask: 1, deny: 2 };

/**
 * Deployment rules first, so a session cannot loosen what the operator decided for a tool; the
 * stricter of the two defaults applies to the rest.
 */
export function mergeApprovalPolicies(
  deployment: ApprovalPolicy | undefined,
  session: ApprovalPolicy | undefined,
): ApprovalPolicy {
  const a = deployment ?? { rules: [], default: 'auto' };
  const b = session ?? { rules: [], default: 'auto' };
  return {
    rules: [...a.rules, ...b.rules],
    default: strictness[a.default] >= strictness[b.default] ? a.default : b.default,
  };
}

const compiled = new WeakMap<ApprovalPolicy, CompiledPolicy>();

/** Compiles the patterns once per policy object. */
export function compileApprovalPolicy(policy: ApprovalPolicy | undefined): CompiledPolicy {
  if (!policy) return () => ({ action: 'auto', reason: 'no approval policy' });
  const cached = compiled.get(policy);
  if (cached) return cached;
  const rules = policy.rules.map((rule) => ({
    rule,
    patterns: Object.entries(rule.match ?? {}).map(([arg, source]) => ({
      arg,
      source,
      regex: new RegExp(source),
    })),
  }));
  const decide: CompiledPolicy = (tool, args) => {
    for (const { rule, patterns } of rules) {
      if (rule.tool !== '*' && rule.tool !== tool) continue;
      if (!patterns.every(({ arg, regex }) => matches(regex, args[arg]))) continue;
      const described = patterns.map(({ arg, source }) => `${arg} matches /${source}/`).join(', ');
      const reason = rule.reason ?? (described ? `${tool}: ${described}` : `rule for ${rule.tool}`);
      return { action: rule.action, reason };
    }
    return { action: policy.default, reason: 'the default policy' };
  };
  compiled.set(policy, decide);
  return decide;
}

function matches(regex: RegExp, value: unknown): boolean {
  if (value === undefined) return false;
  return regex.test(typeof value === 'string' ? value : JSON.stringify(value));
}
