import type { NewLogEntry } from '@tern/shared/session/log-entry';
import type { ToolResult, TurnOutcome } from './agent-types.ts';
import type { AfterToolDecision } from './hook-types.ts';
import { addedContext, denial, type HookOutcome, patchArgs, runHooks } from './run-hooks.ts';
import { type PlannedCall, runTools } from './run-tools.ts';
import { type Plan, planCalls } from './tool-plan.ts';
import type { PendingBatch } from './turn-log.ts';
import { hookBase, hookEnv, pause, stopCancelled, type TurnRun } from './turn-run.ts';

type Slot = {
  plan: Plan;
  /** The call as it runs: with the arguments a human or a hook settled on. */
  call: PlannedCall;
  result?: ToolResult;
  durationMs: number;
  /** Hooks' `add_context`, appended to the result. */
  context: string[];
};

/**
 * Works through one response's tool calls: reuses results the log has, answers refused calls,
 * pauses for approvals, runs the rest (hooks before and after, `tool_started` committed before,
 * `tool_finished` after, in the model's order). Returns an outcome when the turn ends here.
 *
 * When any call of the response waits for a human, nothing of that response runs until every
 * such call is decided: the model's order is kept, and a resumed turn does not have to remember
 * which siblings already ran.
 */
export async function runBatch(run: TurnRun, batch: PendingBatch): Promise<TurnOutcome | null> {
  const slots: Slot[] = planCalls(run, batch.calls).map((plan, i) => {
    const call = batch.calls[i]!.call;
    return {
      plan,
      call: plan.kind === 'run' ? { ...call, args: plan.args } : call,
      durationMs: 0,
      context: [],
    };
  });
  if (run.signal.aborted) return cancelled(run, slots);

  const asks = slots.filter((s) => s.plan.kind === 'ask');
  if (asks.length > 0) {
    const requests: NewLogEntry[] = [];
    for (const slot of asks) {
      const progress = batch.calls.find((c) => c.call.id === slot.call.id);
      if (progress?.requested || slot.plan.kind !== 'ask') continue;
      requests.push({
        kind: 'approval_requested',
        callId: slot.call.id,
        tool: slot.call.name,
        args: slot.call.args,
        reason: slot.plan.reason,
      });
    }
    if (requests.length > 0) await run.commit(requests, false);
    else await run.settled();
    return pause(
      run,
      asks.map((s) => s.call.id),
    );
  }

  run.machine.to('running_tools');
  if (run.hooks.beforeTool.length > 0) {
    await beforeHooks(run, slots);
    if (run.signal.aborted) return cancelled(run, slots);
  }
  const toRun = slots.filter((s) => s.plan.kind === 'run');
  const fresh = toRun.filter((s) => s.plan.kind === 'run' && !s.plan.restart);
  if (fresh.length > 0) {
    await run.commit(
      fresh.map((s) => ({
        kind: 'tool_started',
        callId: s.call.id,
        name: s.call.name,
        args: s.call.args,
      })),
      false,
    );
  }
  if (run.signal.aborted) return cancelled(run, slots);
  const finished = await runTools(
    toRun.map((s) => s.call),
    run.io.tools,
    { signal: run.signal, sessionId: run.input.sessionId, now: () => run.io.now() },
  );
  finished.forEach(({ result, durationMs }, i) => {
    const slot = toRun[i]!;
    slot.result = result;
    slot.durationMs = durationMs;
  });
  if (run.signal.aborted) return cancelled(run, slots);
  if (run.hooks.afterTool.length > 0) await afterHooks(run, toRun);

  const entries = finishedEntries(slots);
  if (entries.length > 0) await run.commit(entries, false);
  run.refusals += slots.filter(
    (s) => s.plan.kind === 'answer' && s.plan.notRun === 'repeat',
  ).length;
  return null;
}

async function beforeHooks(run: TurnRun, slots: Slot[]): Promise<void> {
  await Promise.all(
    slots.map(async (slot) => {
      const plan = slot.plan;
      if (plan.kind !== 'run' || plan.restart) return;
      if (slot.call.invalid !== undefined || !run.io.tools.has(slot.call.name)) return;
      const outcomes = await runHooks(
        run.hooks.beforeTool,
        'before_tool',
        {
          ...hookBase(run),
          call: { id: slot.call.id, name: slot.call.name },
          args: Object.freeze({ ...plan.args }),
        },
        hookEnv(run, slot.call.id),
      );
      const denied = denial(outcomes);
      if (denied) {
        const output = `Not run: denied by hook ${denied.hook}: ${denied.reason}`;
        slot.plan = { kind: 'answer', result: { ok: false, output }, notRun: 'hook' };
        return;
      }
      const args = patchArgs(plan.args, outcomes);
      slot.call = { ...slot.call, args };
      slot.plan = { ...plan, args };
      slot.context.push(...addedContext(outcomes));
    }),
  );
}

async function afterHooks(run: TurnRun, ran: Slot[]): Promise<void> {
  await Promise.all(
    ran.map(async (slot) => {
      const result = slot.result;
      if (!result || slot.call.invalid !== undefined || !run.io.tools.has(slot.call.name)) return;
      const outcomes = await runHooks(
        run.hooks.afterTool,
        'after_tool',
        {
          ...hookBase(run),
          call: { id: slot.call.id, name: slot.call.name },
          args: Object.freeze({ ...slot.call.args }),
          result: Object.freeze({ ...result }),
        },
        hookEnv(run, slot.call.id),
      );
      slot.result = afterResult(result, outcomes);
      slot.context.push(...addedContext(outcomes));
    }),
  );
}

function afterResult(
  result: ToolResult,
  outcomes: readonly HookOutcome<AfterToolDecision>[],
): ToolResult {
  const denied = denial(outcomes);
  if (denied) {
    return { ok: false, output: `Result withheld by hook ${denied.hook}: ${denied.reason}` };
  }
  // The earliest hook's replacement wins.
  for (const { decision } of outcomes) if (decision.action === 'modify') return decision.result;
  return result;
}

function finishedEntries(slots: readonly Slot[]): NewLogEntry[] {
  const entries: NewLogEntry[] = [];
  for (const slot of slots) {
    const { plan, call } = slot;
    if (plan.kind === 'answer') {
      entries.push({
        kind: 'tool_finished',
        callId: call.id,
        name: call.name,
        ok: false,
        output: plan.result.output,
        durationMs: 0,
        notRun: plan.notRun,
      });
    } else if (plan.kind === 'run' && slot.result && !slot.result.interrupted) {
      const output = [...plan.notes, slot.result.output, ...slot.context].join('\n\n');
      entries.push({
        kind: 'tool_finished',
        callId: call.id,
        name: call.name,
        ok: slot.result.ok,
        output,
        durationMs: slot.durationMs,
      });
    }
  }
  return entries;
}

/** Commits what finished and an `interrupted` entry naming the calls left without a result. */
function cancelled(run: TurnRun, slots: readonly Slot[]): Promise<TurnOutcome> {
  const done = finishedEntries(slots);
  const answered = new Set(done.map((e) => (e.kind === 'tool_finished' ? e.callId : '')));
  const open = slots.filter((s) => s.plan.kind !== 'reuse' && !answered.has(s.call.id));
  const name = (s: Slot) => `${s.call.name} (${s.call.id})`;
  const finishedNames = slots.filter((s) => !open.includes(s)).map(name);
  const reason =
    `Cancelled while working on tool calls. ` +
    `Finished: ${finishedNames.join(', ') || 'none'}. ` +
    `Interrupted without a result: ${open.map(name).join(', ') || 'none'}.`;
  return stopCancelled(
    run,
    reason,
    open.map((s) => s.call.id),
    done,
  );
}
