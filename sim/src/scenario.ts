import { isSimFault, SIM_FAULTS, type SimFault } from './faults.ts';
import type { PlannedFinish } from './rule-model.ts';

/**
 * A scripted conversation: the reply to give at each step of an agent turn, in place of the rule
 * model. Scenarios are JSON documents (files, server options, or `PUT /sim/scenarios/:name`), so
 * they are validated here with messages that point at the offending field.
 */
export interface ScenarioToolCall {
  name: string;
  /** An object is sent as its JSON; a string is sent as is, even when it is not valid JSON. */
  arguments: Record<string, unknown> | string;
}

export interface ScenarioStep {
  reasoning?: string;
  text?: string;
  toolCalls?: ScenarioToolCall[];
  finish?: PlannedFinish;
  /** A fault this step suffers, unless the request names its own. */
  fault?: SimFault;
}

export interface Scenario {
  name: string;
  steps: ScenarioStep[];
}

export type ScenarioParse = { ok: true; scenario: Scenario } | { ok: false; message: string };

/** Safe in a header value and a URL path segment. */
const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const FINISHES: readonly PlannedFinish[] = ['stop', 'length', 'tool_calls'];
const STEP_KEYS = ['reasoning', 'text', 'toolCalls', 'finish', 'fault'];
const CALL_KEYS = ['name', 'arguments'];

class InvalidScenario extends Error {}

/**
 * Validates a scenario document. `fallbackName` (a file's base name, a URL's segment) names a
 * document without `name`; a document whose `name` differs from it is refused rather than guessed.
 * Unknown keys are errors, so a typo such as `tool_calls` fails loudly instead of being ignored.
 */
export function parseScenario(value: unknown, fallbackName?: string): ScenarioParse {
  try {
    return { ok: true, scenario: toScenario(value, fallbackName) };
  } catch (error) {
    if (error instanceof InvalidScenario) return { ok: false, message: error.message };
    throw error;
  }
}

function toScenario(value: unknown, fallbackName: string | undefined): Scenario {
  const doc = object(value, 'scenario');
  onlyKeys(doc, ['name', 'steps'], 'scenario');
  const name = doc.name ?? fallbackName;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidScenario(
      'scenario.name must be 1 to 100 letters, digits, dots, dashes or underscores',
    );
  }
  if (fallbackName !== undefined && name !== fallbackName) {
    throw new InvalidScenario(`scenario.name "${name}" does not match "${fallbackName}"`);
  }
  if (!Array.isArray(doc.steps) || doc.steps.length === 0) {
    throw new InvalidScenario('scenario.steps must be a non-empty array');
  }
  return { name, steps: doc.steps.map((step: unknown, i) => toStep(step, `steps[${i}]`)) };
}

function toStep(value: unknown, where: string): ScenarioStep {
  const raw = object(value, where);
  onlyKeys(raw, STEP_KEYS, where);
  const step: ScenarioStep = {};
  if (raw.reasoning !== undefined) step.reasoning = string(raw.reasoning, `${where}.reasoning`);
  if (raw.text !== undefined) step.text = string(raw.text, `${where}.text`);
  if (raw.toolCalls !== undefined) {
    if (!Array.isArray(raw.toolCalls)) {
      throw new InvalidScenario(`${where}.toolCalls must be an array`);
    }
    step.toolCalls = raw.toolCalls.map((call: unknown, i) =>
      toToolCall(call, `${where}.toolCalls[${i}]`),
    );
  }
  if (raw.finish !== undefined) {
    if (!FINISHES.includes(raw.finish as PlannedFinish)) {
      throw new InvalidScenario(`${where}.finish must be one of ${FINISHES.join(', ')}`);
    }
    step.finish = raw.finish as PlannedFinish;
  }
  if (raw.fault !== undefined) {
    if (typeof raw.fault !== 'string' || !isSimFault(raw.fault)) {
      throw new InvalidScenario(`${where}.fault must be one of ${SIM_FAULTS.join(', ')}`);
    }
    step.fault = raw.fault;
  }
  return step;
}

function toToolCall(value: unknown, where: string): ScenarioToolCall {
  const raw = object(value, where);
  onlyKeys(raw, CALL_KEYS, where);
  const name = string(raw.name, `${where}.name`);
  if (name === '') throw new InvalidScenario(`${where}.name must not be empty`);
  const args = raw.arguments ?? {};
  if (typeof args === 'string') return { name, arguments: args };
  return { name, arguments: object(args, `${where}.arguments`, 'an object or a string') };
}

function object(value: unknown, where: string, expected = 'an object'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidScenario(`${where} must be ${expected}`);
  }
  return value as Record<string, unknown>;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new InvalidScenario(`${where} must be a string`);
  return value;
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], where: string) {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new InvalidScenario(
      `${where} has unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: ${allowed.join(', ')})`,
    );
  }
}

/** Scenarios as `createSimServer` takes them: a list, or a record keyed by name. */
export type ScenarioSource = readonly unknown[] | Readonly<Record<string, unknown>>;

/** Validates every scenario up front, so a bad script fails at start-up, not at its first use. */
export function scenarioMap(source: ScenarioSource = []): Map<string, Scenario> {
  const entries: [string | undefined, unknown][] = Array.isArray(source)
    ? source.map((doc) => [undefined, doc])
    : Object.entries(source);
  const map = new Map<string, Scenario>();
  for (const [key, doc] of entries) {
    const parsed = parseScenario(doc, key);
    if (!parsed.ok) throw new Error(`tern sim: invalid scenario: ${parsed.message}`);
    map.set(parsed.scenario.name, parsed.scenario);
  }
  return map;
}
