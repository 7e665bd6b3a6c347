import type { IncomingHttpHeaders } from 'node:http';
import { applyPlanFault } from './fault-plan.ts';
import { chooseFault, FAULT_HEADER, type SimFault } from './faults.ts';
import { type ModelRequest, planReply, type ReplyPlan } from './rule-model.ts';
import type { Scenario, ScenarioStep } from './scenario.ts';

/**
 * What every route asks first: given the wire-neutral request and the sim headers, what does the
 * model reply, and which fault does the request suffer? A scripted scenario when the request names
 * one, the rule model otherwise; plan-level faults are already applied to the returned plan.
 */
export const SCENARIO_HEADER = 'x-tern-sim-scenario';
export const END_OF_SCENARIO = '(end of scenario)';

export interface PlanContext {
  scenarios: ReadonlyMap<string, Scenario>;
  /** The server's default fault. */
  fault: SimFault | undefined;
}

export type PlanChoice =
  | {
      ok: true;
      plan: ReplyPlan;
      fault: SimFault | undefined;
      /** The scripted step that answered, when a scenario did. */
      scenario?: { name: string; step: number };
    }
  /** A malformed sim header: the route answers 400 naming `header`, in its own error shape. */
  | { ok: false; header: string; message: string };

/**
 * Fault precedence: the request's `x-tern-sim-fault` header (`none` included), then the scenario
 * step's `fault`, then the server default.
 */
export function planFor(
  request: ModelRequest,
  headers: IncomingHttpHeaders,
  ctx: PlanContext,
): PlanChoice {
  const scripted = scriptedStep(headers, ctx.scenarios, request);
  if (scripted && !scripted.ok) return scripted;
  const step = scripted?.step;
  const fault = chooseFault(headers, step ? step.fault : ctx.fault);
  if (!fault.ok) return { ok: false, header: FAULT_HEADER, message: fault.message };
  const plan = scripted ? stepPlan(scripted.step) : planReply(request);
  return {
    ok: true,
    plan: applyPlanFault(plan, fault.fault, request.toolNames),
    fault: fault.fault,
    ...(scripted ? { scenario: { name: scripted.name, step: scripted.index } } : {}),
  };
}

type Scripted =
  | { ok: true; name: string; index: number; step: ScenarioStep }
  | { ok: false; header: string; message: string };

/**
 * Stateless on purpose: the step is the number of assistant messages already in the request, so
 * each request of an agent turn walks one step further, a retry gets the same step again, and
 * concurrent sessions on one script never disturb each other. Past the end the script answers
 * with its last words, or a fixed sentence, and no tool call, so an agent loop ends.
 */
function scriptedStep(
  headers: IncomingHttpHeaders,
  scenarios: ReadonlyMap<string, Scenario>,
  request: ModelRequest,
): Scripted | undefined {
  const raw = headers[SCENARIO_HEADER];
  if (raw === undefined) return undefined;
  const name = typeof raw === 'string' ? raw.trim() : '';
  const scenario = scenarios.get(name);
  if (!scenario) {
    const known = [...scenarios.keys()];
    return {
      ok: false,
      header: SCENARIO_HEADER,
      message: `Invalid '${SCENARIO_HEADER}' header: no scenario named "${name}" (known: ${known.length > 0 ? known.join(', ') : 'none'}).`,
    };
  }
  const index = request.messages.filter((m) => m.role === 'assistant').length;
  const step = scenario.steps[index];
  if (step) return { ok: true, name, index, step };
  const last = scenario.steps.at(-1)?.text;
  return { ok: true, name, index, step: { text: last ? last : END_OF_SCENARIO } };
}

function stepPlan(step: ScenarioStep): ReplyPlan {
  return {
    ...(step.reasoning ? { reasoning: step.reasoning } : {}),
    text: step.text ?? '',
    toolCalls: (step.toolCalls ?? []).map((call) => ({
      name: call.name,
      arguments:
        typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    })),
    ...(step.finish ? { finish: step.finish } : {}),
  };
}
