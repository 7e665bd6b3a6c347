import type { Config } from '@tern/shared/config/config';
import { type ModelRegistry, parseModelRef } from '@tern/shared/llm/model-registry';
import type { Logger } from '@tern/shared/obs/logger';
import { webhookHooksSchema } from '@tern/shared/protocol/hook-config';
import type { LogEntry, NewLogEntry } from '@tern/shared/session/log-entry';
import {
  FencedError,
  type Lease,
  type SessionMeta,
  type SessionStore,
  turnIdFor,
} from '@tern/shared/session/session-store';
import type { TurnIO } from '../agent/agent-types.ts';
import {
  type ApprovalPolicy,
  approvalPolicySchema,
  mergeApprovalPolicies,
} from '../agent/approval-policy.ts';
import type { Hook } from '../agent/hook-types.ts';
import { mergeHooks } from '../agent/run-hooks.ts';
import { runTurn } from '../agent/run-turn.ts';
import { webhookHook } from '../agent/webhook-hook.ts';
import { sessionTools } from '../tools/proposals/session-tools.ts';
import type { SandboxPolicy } from '../tools/sandbox/sandbox-types.ts';
import type { CancelListener } from './cancel-listener.ts';
import { EventPublisher } from './event-publisher.ts';
import type { WorkspaceCache } from './workspace-cache.ts';

export type TurnDeps = {
  config: Config;
  /** How code-running tools run on this worker (decided by the start-up probe). */
  sandbox: SandboxPolicy | 'unavailable';
  store: SessionStore;
  models: ModelRegistry;
  workspaces: WorkspaceCache;
  workerId: string;
  logger: Logger;
  cancels: CancelListener;
};

export const DEFAULT_SYSTEM_PROMPT =
  'You are Tern, a coding agent working in the session workspace. Use the tools to inspect files ' +
  'before answering questions about them, and answer concisely.';

/** Why a job could not run now; the caller re-queues it. */
export type Deferred = 'lease_held';

/**
 * Runs every input of a session that is not done yet, in order, under the session's lease. Any
 * job of the session may do this work: inputs are taken from the session, not from the job, so
 * two quickly sent messages are answered in order even when their jobs land on different workers.
 */
export async function runSessionInputs(
  deps: TurnDeps,
  sessionId: string,
): Promise<Deferred | undefined> {
  const { store, config } = deps;
  const lease = await store.acquireLease(sessionId, deps.workerId, config.LEASE_TTL_MS);
  if (lease === 'missing') return undefined;
  if (lease === 'held') return 'lease_held';

  const lost = new AbortController();
  const renew = setInterval(
    () => {
      store.renewLease(lease, config.LEASE_TTL_MS).then(
        (held) => {
          if (!held) lost.abort(new FencedError(`lease of ${sessionId} was lost`));
        },
        () => {},
      );
    },
    Math.max(200, Math.floor(config.LEASE_TTL_MS / 3)),
  );
  renew.unref();
  try {
    for (;;) {
      const meta = await store.meta(sessionId);
      if (!meta || meta.doneInputSeq >= meta.inputSeq) return undefined;
      const outcome = await runOneInput(deps, lease, meta, lost.signal);
      // A turn waiting for a human stays where it is; the decision's job resumes it.
      if (outcome === 'awaiting_approval') return undefined;
      // Steering that missed the turn's last step boundary is answered as the next input.
      await store.requeueSteering(sessionId);
    }
  } catch (error) {
    // Another worker owns the session now; it carries on from the last committed step.
    if (error instanceof FencedError || lost.signal.aborted) {
      deps.logger.warn({ sessionId, err: String(error) }, 'stopped: lease lost');
      return undefined;
    }
    throw error;
  } finally {
    clearInterval(renew);
    await store.releaseLease(lease).catch(() => {});
  }
}

async function runOneInput(
  deps: TurnDeps,
  lease: Lease,
  meta: SessionMeta,
  signal: AbortSignal,
): Promise<'awaiting_approval' | undefined> {
  const { store, config } = deps;
  const sessionId = lease.sessionId;
  const inputSeq = meta.doneInputSeq + 1;
  const [input, history, workspace] = await Promise.all([
    store.input(sessionId, inputSeq),
    store.entries(sessionId),
    deps.workspaces.ensure(store, sessionId),
  ]);
  if (!input) throw new Error(`session ${sessionId} input ${inputSeq} is missing`);
  const turnId = turnIdFor(sessionId, inputSeq);
  const log = deps.logger.child({ sessionId, turnId });
  const publisher = new EventPublisher(store, lease, config.EVENT_STREAM_MAXLEN);
  const cancel = deps.cancels.track(sessionId, turnId);
  if (await store.cancelRequested(sessionId, turnId)) deps.cancels.cancel(sessionId, turnId);
  let lastSeq = history.at(-1)?.seq ?? 0;
  const ref = parseModelRef(meta.model);

  const io: TurnIO = {
    stream: deps.models.streamFor(ref.provider),
    tools: await sessionTools({
      store,
      sessionId,
      workspace: () => workspace,
      sandbox: deps.sandbox,
    }),
    now: () => performance.now(),
    emit: (event) => publisher.emit(event),
    signal: AbortSignal.any([signal, cancel.signal]),
    takeSteering: () => store.takeSteering(sessionId),
    hooks: hooksFor(config, meta),
    async commit(entries: NewLogEntry[], { final }) {
      const at = Date.now();
      const stamped = entries.map(
        (e, i) => ({ ...e, seq: lastSeq + i + 1, turnId, epoch: lease.epoch, at }) as LogEntry,
      );
      const result = await store.commit(lease, lastSeq, stamped, final ? inputSeq : undefined);
      if (result !== 'committed') {
        throw new FencedError(`commit to ${sessionId} rejected: ${result}`);
      }
      lastSeq += stamped.length;
      // The session reads as waiting for a human before anyone hears of the request.
      if (stamped.some((e) => e.kind === 'approval_requested')) {
        await store.setStatus(lease, 'awaiting_approval');
      }
      for (const entry of stamped) publisher.emit({ type: 'entry', entry });
      return stamped;
    },
  };

  // Decisions humans made while the turn waited go into the log before it resumes, so that any
  // worker replaying it later sees the same answers.
  const decided = await decisionsToLog(store, sessionId, history);
  const resumedHistory =
    decided.length > 0 ? [...history, ...(await io.commit(decided, { final: false }))] : history;

  await store.markStarted(lease, inputSeq);
  const started = performance.now();
  let outcome: Awaited<ReturnType<typeof runTurn>>;
  try {
    outcome = await runTurn(io, {
      sessionId,
      turnId,
      inputSeq,
      text: input.text,
      model: ref.model,
      modelRef: meta.model,
      modelTimeoutMs: config.LLM_TIMEOUT_MS,
      systemPrompt: meta.systemPrompt || DEFAULT_SYSTEM_PROMPT,
      history: resumedHistory,
      resumed: meta.startedInputSeq >= inputSeq || history.some((e) => e.turnId === turnId),
      maxSteps: config.MAX_STEPS_PER_TURN,
      ...(config.MAX_TURN_TOKENS ? { maxTokens: config.MAX_TURN_TOKENS } : {}),
      ...(config.MAX_TURN_COST_USD ? { maxCostUsd: config.MAX_TURN_COST_USD } : {}),
      ...(config.MAX_TURN_WALL_MS ? { maxWallTimeMs: config.MAX_TURN_WALL_MS } : {}),
      ...approvalsFor(config, meta),
      ...(meta.sim ? { headers: simHeaders(meta.sim) } : {}),
    });
  } finally {
    cancel.done();
  }
  if (cancel.signal.aborted) await store.clearCancel(sessionId, turnId);
  await publisher.flush();
  if (publisher.fenced) throw new FencedError(`events of ${sessionId} rejected: lease lost`);
  log.info(
    { reason: outcome.reason, steps: outcome.steps, ms: Math.round(performance.now() - started) },
    outcome.reason === 'awaiting_approval' ? 'turn paused for approval' : 'turn finished',
  );
  if (outcome.reason === 'awaiting_approval') {
    await store.setStatus(lease, 'awaiting_approval');
    return 'awaiting_approval';
  }
  return undefined;
}

/** The session's simulator controls as the `x-tern-sim-*` headers the simulator reads. */
function simHeaders(json: string): Record<string, string> {
  const sim = JSON.parse(json) as {
    scenario?: string;
    fault?: string;
    ttftMs?: number;
    itlMs?: number;
  };
  const headers: Record<string, string> = {};
  if (sim.scenario) headers['x-tern-sim-scenario'] = sim.scenario;
  if (sim.fault) headers['x-tern-sim-fault'] = sim.fault;
  if (sim.ttftMs !== undefined) headers['x-tern-sim-ttft-ms'] = String(sim.ttftMs);
  if (sim.itlMs !== undefined) headers['x-tern-sim-itl-ms'] = String(sim.itlMs);
  return headers;
}

/** `approval_decided` entries for requests of the log that humans answered since. */
async function decisionsToLog(
  store: SessionStore,
  sessionId: string,
  history: readonly LogEntry[],
): Promise<NewLogEntry[]> {
  const decided = new Set(
    history.flatMap((e) => (e.kind === 'approval_decided' ? [e.callId] : [])),
  );
  const waiting = history.filter((e) => e.kind === 'approval_requested' && !decided.has(e.callId));
  if (waiting.length === 0) return [];
  const decisions = await store.decisions(sessionId);
  const out: NewLogEntry[] = [];
  for (const request of waiting) {
    if (request.kind !== 'approval_requested') continue;
    const decision = decisions.get(request.callId);
    if (decision) out.push({ kind: 'approval_decided', callId: request.callId, ...decision });
  }
  return out;
}

/** The deployment's approval rules first, then the session's own. */
function approvalsFor(config: Config, meta: SessionMeta): { approvals?: ApprovalPolicy } {
  const session = meta.approvals
    ? approvalPolicySchema.parse(JSON.parse(meta.approvals))
    : undefined;
  const merged = mergeApprovalPolicies(config.TERN_APPROVAL_POLICY, session);
  return merged ? { approvals: merged } : {};
}

/** The deployment's webhook hooks first, then the session's (validated when it was created). */
function hooksFor(config: Config, meta: SessionMeta): readonly Hook[] {
  const session = meta.hooks ? webhookHooksSchema.parse(JSON.parse(meta.hooks)) : [];
  if (config.TERN_HOOKS.length === 0 && session.length === 0) return [];
  return mergeHooks(
    config.TERN_HOOKS.map((h) => webhookHook(h)),
    session.map((h) => webhookHook(h)),
  );
}
