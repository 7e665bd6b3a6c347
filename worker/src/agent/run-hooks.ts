import type { SessionEvent } from '@tern/shared/protocol/events';
import type {
  AfterModelContext,
  AfterModelDecision,
  AfterToolContext,
  AfterToolDecision,
  BeforeModelContext,
  BeforeModelDecision,
  BeforeToolContext,
  BeforeToolDecision,
  Deny,
  Hook,
  HookContext,
  HookHandler,
  HookPoint,
} from './hook-types.ts';

const DEFAULT_HOOK_TIMEOUT_MS = 1_000;

export type HookEntry<C, D> = { hook: Hook; handler: HookHandler<C, D> };

/** A turn's hooks sorted by point once, so a point without hooks costs nothing per step. */
export type HookSet = {
  beforeModel: HookEntry<BeforeModelContext, BeforeModelDecision>[];
  afterModel: HookEntry<AfterModelContext, AfterModelDecision>[];
  beforeTool: HookEntry<BeforeToolContext, BeforeToolDecision>[];
  afterTool: HookEntry<AfterToolContext, AfterToolDecision>[];
};

export function hookSet(hooks: readonly Hook[] = []): HookSet {
  const set: HookSet = { beforeModel: [], afterModel: [], beforeTool: [], afterTool: [] };
  for (const hook of hooks) {
    if (hook.beforeModel) set.beforeModel.push({ hook, handler: hook.beforeModel });
    if (hook.afterModel) set.afterModel.push({ hook, handler: hook.afterModel });
    if (hook.beforeTool) set.beforeTool.push({ hook, handler: hook.beforeTool });
    if (hook.afterTool) set.afterTool.push({ hook, handler: hook.afterTool });
  }
  return set;
}

/**
 * Deployment hooks first, then the session's. A session cannot replace or drop a deployment hook
 * (they are the operator's guards), so a name used by both is a configuration error.
 */
export function mergeHooks(
  deployment: readonly Hook[] = [],
  session: readonly Hook[] = [],
): readonly Hook[] {
  const names = new Set<string>();
  for (const hook of [...deployment, ...session]) {
    if (names.has(hook.name)) throw new TypeError(`two hooks are named ${hook.name}`);
    names.add(hook.name);
  }
  return [...deployment, ...session];
}

export type HookEnv = {
  turnId: string;
  /** The turn's cancel signal: a cancelled turn stops waiting for its hooks. */
  signal: AbortSignal;
  emit(event: SessionEvent): void;
  callId?: string;
};

/** One hook's decision; a skipped hook (no answer, overrun with `skip`) yields none. */
export type HookOutcome<D> = { hook: string; decision: D | Deny };

const OVERRUN = Symbol('overrun');
const CANCELLED = Symbol('cancelled');

/**
 * Runs every hook of one point at once, each within its time budget, and returns their decisions
 * in the hooks' order (which is how conflicts are settled, not when they answered).
 */
export async function runHooks<C extends HookContext, D>(
  entries: readonly HookEntry<C, D>[],
  point: HookPoint,
  context: Omit<C, 'signal'>,
  env: HookEnv,
): Promise<HookOutcome<D>[]> {
  const outcomes = await Promise.all(entries.map((entry) => runOne(entry, point, context, env)));
  return outcomes.filter((o): o is HookOutcome<D> => o !== undefined);
}

async function runOne<C extends HookContext, D>(
  { hook, handler }: HookEntry<C, D>,
  point: HookPoint,
  context: Omit<C, 'signal'>,
  env: HookEnv,
): Promise<HookOutcome<D> | undefined> {
  const timeoutMs = hook.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onCancel: (() => void) | undefined;
  // A hook that ignores its signal must not hold the turn past its budget, nor past a cancel.
  const overrun = new Promise<typeof OVERRUN>((resolve) => {
    timer = setTimeout(() => resolve(OVERRUN), timeoutMs);
  });
  const cancelled = new Promise<typeof CANCELLED>((resolve) => {
    onCancel = () => resolve(CANCELLED);
    if (env.signal.aborted) onCancel();
    else env.signal.addEventListener('abort', onCancel, { once: true });
  });
  try {
    const frozen = Object.freeze({ ...context, signal: controller.signal }) as C;
    const answer = await Promise.race([(async () => handler(frozen))(), overrun, cancelled]);
    if (answer === CANCELLED) return undefined;
    if (answer === OVERRUN) {
      controller.abort(new Error(`hook ${hook.name} overran its ${timeoutMs} ms budget`));
      return problem(hook, point, env, 'timeout', `took longer than ${timeoutMs} ms`);
    }
    return answer ? { hook: hook.name, decision: answer } : undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return problem(hook, point, env, 'error', `failed: ${message}`);
  } finally {
    clearTimeout(timer);
    if (onCancel) env.signal.removeEventListener('abort', onCancel);
  }
}

function problem<D>(
  hook: Hook,
  point: HookPoint,
  env: HookEnv,
  kind: 'timeout' | 'error',
  message: string,
): HookOutcome<D> | undefined {
  const deny = hook.onTimeout === 'deny';
  env.emit({
    type: 'hook_warning',
    turnId: env.turnId,
    hook: hook.name,
    point,
    ...(env.callId ? { callId: env.callId } : {}),
    problem: kind,
    action: deny ? 'denied' : 'skipped',
    message: `hook ${hook.name} ${message}`,
  });
  if (!deny) return undefined;
  return { hook: hook.name, decision: { action: 'deny', reason: `the hook ${message}` } };
}

/** The first denial in hook order, if any hook denied. */
export function denial<D>(
  outcomes: readonly HookOutcome<D>[],
): { hook: string; reason: string } | undefined {
  for (const { hook, decision } of outcomes) {
    if (isDeny(decision)) return { hook, reason: decision.reason };
  }
  return undefined;
}

/** `add_context` texts in hook order, each labelled with its hook. */
export function addedContext<D>(outcomes: readonly HookOutcome<D>[]): string[] {
  const texts: string[] = [];
  for (const { hook, decision } of outcomes) {
    if (isAddContext(decision)) texts.push(`[${hook}] ${decision.text}`);
  }
  return texts;
}

function isDeny(decision: unknown): decision is Deny {
  return (decision as { action?: unknown }).action === 'deny';
}

function isAddContext(decision: unknown): decision is { action: 'add_context'; text: string } {
  return (decision as { action?: unknown }).action === 'add_context';
}

/**
 * Applies `modify` patches to a tool call's arguments. Patches are applied last to first so that
 * the earliest hook (deployment before session) wins a conflict; `undefined` removes a key.
 */
export function patchArgs(
  args: Record<string, unknown>,
  outcomes: readonly HookOutcome<BeforeToolDecision>[],
): Record<string, unknown> {
  const patches = outcomes.flatMap(({ decision }) =>
    decision.action === 'modify' ? [decision.args] : [],
  );
  if (patches.length === 0) return args;
  const next = { ...args };
  for (const patch of patches.reverse()) {
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
  }
  return next;
}
