import { ToolSchemaValidator } from '@tern/shared/llm/tool-schema-validator';
import type { ToolNotRun } from '@tern/shared/session/log-entry';
import type { ToolResult } from './agent-types.ts';
import type { CallProgress } from './turn-log.ts';
import type { TurnRun } from './turn-run.ts';

/** What to do with one call of a response, decided from the log, the guards and the policy. */
export type Plan =
  /** It has a result in the log already: reuse it, never run it again. */
  | { kind: 'reuse' }
  /** Answer the model without running the tool. */
  | { kind: 'answer'; result: ToolResult; notRun: ToolNotRun }
  /** Wait for a human (`ask`). */
  | { kind: 'ask'; reason: string }
  /**
   * Run it with `args`. `restart`: it was started before a crash and is idempotent, so it runs
   * again under its existing `tool_started` (and its hooks and approval are not asked again).
   */
  | { kind: 'run'; args: Record<string, unknown>; restart: boolean; notes: string[] };

// Compiled validators are cached per schema object, so one validator serves every turn.
const validator = new ToolSchemaValidator();

/**
 * Plans a response's calls in the model's order. Every call is shown to the repeat guard, even
 * one that has a result already, so that the guard's verdicts are the same on every resume.
 */
export function planCalls(run: TurnRun, calls: readonly CallProgress[]): Plan[] {
  return calls.map((progress) => planOne(run, progress));
}

function planOne(run: TurnRun, progress: CallProgress): Plan {
  const { call } = progress;
  const repeated = run.guard.see(call);
  if (progress.finished) return { kind: 'reuse' };
  const tool = run.io.tools.get(call.name);
  if (progress.started) {
    if (tool?.idempotent) {
      return { kind: 'run', args: progress.started.args, restart: true, notes: [] };
    }
    return answer(
      `${call.name} was interrupted before it finished; not re-run because ${call.name} is not idempotent. Check its effects before trying again.`,
      'interrupted',
    );
  }
  // Nothing runs for these: the tool result explains the problem, no approval is needed.
  if (call.invalid !== undefined || !tool) {
    return { kind: 'run', args: call.args, restart: false, notes: [] };
  }
  if (repeated) {
    return answer(
      `Not run: this is the same ${call.name} call with the same arguments, made again and again in a row. Repeating it will not give a different result; use the earlier result or try something else.`,
      'repeat',
    );
  }
  const decided = progress.decided;
  if (decided?.decision === 'deny') {
    const why = decided.reason ? `: ${decided.reason}` : '';
    return answer(`Not run: denied by ${decided.by}${why}`, 'approval');
  }
  if (decided) {
    if (!decided.args) return { kind: 'run', args: call.args, restart: false, notes: [] };
    const checked = validator.check([tool.spec], call.name, decided.args);
    if (!checked.ok) {
      return answer(
        `Not run: the arguments ${decided.by} edited are invalid: ${checked.message}`,
        'approval',
      );
    }
    const note = `Note: ${decided.by} edited the arguments before approving; the call ran with ${JSON.stringify(decided.args)}.`;
    return { kind: 'run', args: decided.args, restart: false, notes: [note] };
  }
  const verdict = run.policy(call.name, call.args);
  if (verdict.action === 'deny')
    return answer(`Not run: denied by policy (${verdict.reason})`, 'policy');
  if (verdict.action === 'ask') return { kind: 'ask', reason: verdict.reason };
  return { kind: 'run', args: call.args, restart: false, notes: [] };
}

function answer(output: string, notRun: ToolNotRun): Plan {
  return { kind: 'answer', result: { ok: false, output }, notRun };
}
