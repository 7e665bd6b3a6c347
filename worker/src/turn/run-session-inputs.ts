import type { Config } from '@tern/shared/config/config';
import { CapacityWaitError } from '@tern/shared/llm/capacity-wait-error';
import { type ModelRegistry, parseModelRef } from '@tern/shared/llm/model-registry';
import type { Logger } from '@tern/shared/obs/logger';
import { webhookHooksSchema } from '@tern/shared/protocol/hook-config';
import type { UserSlots } from '@tern/shared/queue/fair-queue';
import type { LogEntry, NewLogEntry } from '@tern/shared/session/log-entry';
import {
  FencedError,
  type Lease,
  type SessionMeta,
  type SessionStore,
  turnIdFor,
} from '@tern/shared/session/session-store';
import {
  type WorkspaceLimits,
  WorkspaceTooLargeError,
} from '@tern/shared/session/workspace-limit-error';
import type { TurnIO, TurnOutcome } from '../agent/agent-types.ts';
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
import { turnBudgets } from './turn-budgets.ts';
import { type TurnObservability, type TurnOrigin, TurnTelemetry } from './turn-telemetry.ts';
import { trackWorkspaceWrites, type Workspace, type WorkspaceCache } from './workspace-cache.ts';

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
  /** Metrics and traces of the worker's turns; absent, turns report nothing. */
  obs?: TurnObservability;
  /** Per-user running-turn limits; absent, none. */
  slots?: UserSlots;
  /** Wakes a job parked behind a user's limit (when one of that user's turns ends). */
  wake?: (jobId: string) => void;
  /** Aborted when the worker stops: its sessions are handed back at once. */
  stopping?: AbortSignal;
};

export const DEFAULT_SYSTEM_PROMPT =
  'You are Tern, a coding agent working in the session workspace. Use the tools to inspect files ' +
  'before answering questions about them, and answer concisely.';

/** Why a job could not run now; the caller re-queues it (for `retryAfterMs`, when given). */
export type Deferred =
  | 'lease_held'
  /** Its user has as many turns running as allowed; a turn of theirs that ends wakes the job. */
  | 'parked'
  /** The worker is stopping: another worker resumes the session from its last commit, now. */
  | 'handed_back'
  | { reason: 'capacity_wait'; retryAfterMs: number };

/**
 * Runs every input of a session that is not done yet, in order, under the session's lease. Any
 * job of the session may do this work: inputs are taken from the session, not from the job, so
 * two quickly sent messages are answered in order even when their jobs land on different workers.
 */
export async function runSessionInputs(
  deps: TurnDeps,
  sessionId: string,
  origin?: TurnOrigin,
  jobId?: string,
): Promise<Deferred | undefined> {
  const { store, config } = deps;
  const lease = await store.acquireLease(sessionId, deps.workerId, config.LEASE_TTL_MS);
  if (lease === 'missing') return undefined;
  deps.obs?.metrics?.leaseAcquisitions.inc({ result: lease === 'held' ? 'held' : 'acquired' });
  if (lease === 'held') return 'lease_held';

  const lost = new AbortController();
  const renew = setInterval(
    () => {
      if (slotOwner !== undefined) deps.slots?.renew(slotOwner, sessionId).catch(() => {});
      store.renewLease(lease, config.LEASE_TTL_MS).then(
        (held) => {
          if (held || lost.signal.aborted) return;
          deps.obs?.metrics?.leaseLost.inc();
          lost.abort(new FencedError(`lease of ${sessionId} was lost`));
        },
        () => {},
      );
    },
    Math.max(200, Math.floor(config.LEASE_TTL_MS / 3)),
  );
  renew.unref();
  // Giving the lease up first fences every later commit and event of this run, so what it was
  // doing is neither recorded as cancelled nor kept: the next runner resumes from the last commit.
  const handBack = () => {
    store
      .releaseLease(lease)
      .catch(() => {})
      .finally(() =>
        lost.abort(new FencedError(`${sessionId} handed back: the worker is stopping`)),
      );
  };
  if (deps.stopping?.aborted) handBack();
  else deps.stopping?.addEventListener('abort', handBack, { once: true });
  let turn: TurnTelemetry | undefined;
  /** The user whose running-turn slot this session holds, once admitted. */
  let slotOwner: string | undefined;
  try {
    for (;;) {
      const meta = await store.meta(sessionId);
      if (!meta || meta.doneInputSeq >= meta.inputSeq) return undefined;
      if (deps.stopping?.aborted) return 'handed_back';
      if (slotOwner === undefined && deps.slots && jobId) {
        if (!(await deps.slots.admit(meta.owner, sessionId, jobId))) return 'parked';
        slotOwner = meta.owner;
      }
      const telemetry = await TurnTelemetry.start(deps.obs, meta, origin);
      turn = telemetry;
      const outcome = await telemetry.run(() =>
        runOneInput(deps, lease, meta, lost.signal, telemetry),
      );
      // A turn waiting for a human stays where it is; the decision's job resumes it.
      if (outcome === 'awaiting_approval') return undefined;
      // Steering that missed the turn's last step boundary is answered as the next input.
      await store.requeueSteering(sessionId);
    }
  } catch (error) {
    // The provider has no capacity for a while: the turn goes back to the queue rather than hold
    // a worker slot, and resumes from its log.
    if (CapacityWaitError.is(error)) {
      const { retryAfterMs } = error;
      deps.logger.info(
        { sessionId, ...turn?.bindings, retryAfterMs },
        'waiting for provider capacity',
      );
      return { reason: 'capacity_wait', retryAfterMs };
    }
    if (deps.stopping?.aborted && (error instanceof FencedError || lost.signal.aborted)) {
      deps.logger.info({ sessionId, ...turn?.bindings }, 'handed back: the worker is stopping');
      return 'handed_back';
    }
    // Another worker owns the session now; it carries on from the last committed step.
    if (error instanceof FencedError || lost.signal.aborted) {
      deps.logger.warn({ sessionId, ...turn?.bindings, err: String(error) }, 'stopped: lease lost');
      return undefined;
    }
    throw error;
  } finally {
    clearInterval(renew);
    deps.stopping?.removeEventListener('abort', handBack);
    if (slotOwner !== undefined) {
      const woken = await deps.slots?.release(slotOwner, sessionId).catch(() => undefined);
      if (woken) deps.wake?.(woken);
    }
    await store.releaseLease(lease).catch(() => {});
  }
}

async function runOneInput(
  deps: TurnDeps,
  lease: Lease,
  meta: SessionMeta,
  signal: AbortSignal,
  telemetry: TurnTelemetry,
): Promise<'awaiting_approval' | undefined> {
  const { store, config } = deps;
  const sessionId = lease.sessionId;
  const inputSeq = meta.doneInputSeq + 1;
  const [input, history] = await Promise.all([
    store.input(sessionId, inputSeq),
    store.entries(sessionId),
  ]);
  // The workspace as the last committed step left it, whichever worker ran that step.
  const workspace = await deps.workspaces.open(store, sessionId, history, workspaceLimits(config));
  if (!input) throw new Error(`session ${sessionId} input ${inputSeq} is missing`);
  const turnId = turnIdFor(sessionId, inputSeq);
  const log = deps.logger.child(telemetry.bindings);
  if (config.TERN_LOG_PROMPTS) log.info({ prompt: input.text }, 'turn prompt');
  const publisher = new EventPublisher(
    store,
    lease,
    config.EVENT_STREAM_MAXLEN,
    telemetry.publishing,
  );
  const cancel = deps.cancels.track(sessionId, turnId);
  if (await store.cancelRequested(sessionId, turnId)) deps.cancels.cancel(sessionId, turnId);
  let lastSeq = history.at(-1)?.seq ?? 0;
  const ref = parseModelRef(meta.model);

  const io: TurnIO = telemetry.instrument(history, {
    stream: deps.models.streamFor(ref.provider),
    tools: trackWorkspaceWrites(
      await sessionTools({
        store,
        sessionId,
        workspace: () => workspace.dir,
        sandbox: deps.sandbox,
      }),
      workspace,
    ),
    now: () => performance.now(),
    emit: (event) => publisher.emit(event),
    signal: AbortSignal.any([signal, cancel.signal]),
    takeSteering: () => store.takeSteering(sessionId),
    hooks: hooksFor(config, meta),
    async commit(entries: NewLogEntry[], { final }) {
      const at = Date.now();
      // What the step's tools changed is stored before the step, whose last entry names the tree.
      // A workspace past its limits is not stored: the step ends the turn with an error instead.
      const { tree, tooLarge } = await saveWorkspace(workspace, log);
      const step: NewLogEntry[] = tooLarge
        ? [...entries, { kind: 'error', code: tooLarge.code, message: tooLarge.message }]
        : entries;
      const stamped = step.map(
        (e, i) =>
          ({
            ...e,
            seq: lastSeq + i + 1,
            turnId,
            epoch: lease.epoch,
            at,
            ...(tree && i === step.length - 1 ? { workspace: tree } : {}),
          }) as LogEntry,
      );
      const completes = final || tooLarge ? inputSeq : undefined;
      const result = await store.commit(lease, lastSeq, stamped, completes);
      if (result !== 'committed') {
        throw new FencedError(`commit to ${sessionId} rejected: ${result}`);
      }
      lastSeq += stamped.length;
      // The session reads as waiting for a human before anyone hears of the request.
      if (stamped.some((e) => e.kind === 'approval_requested')) {
        await store.setStatus(lease, 'awaiting_approval');
      }
      for (const entry of stamped) publisher.emit({ type: 'entry', entry });
      if (tooLarge) throw tooLarge;
      return stamped;
    },
  });

  // A turn handed back for provider capacity leaves once its commit in flight has landed.
  let landing: Promise<unknown> = Promise.resolve();
  const commit = io.commit;
  io.commit = (entries, options) => {
    const done = commit(entries, options);
    landing = done.catch(() => {});
    return done;
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
      ...turnBudgets(config, meta),
      ...approvalsFor(config, meta),
      ...(meta.sim ? { headers: simHeaders(meta.sim) } : {}),
    });
  } catch (error) {
    if (CapacityWaitError.is(error)) {
      await landing;
      publisher.emit({
        type: 'model_retry',
        turnId,
        attempt: 1,
        delayMs: error.retryAfterMs,
        code: 'capacity_wait',
        message: error.message,
      });
      await publisher.flush();
    }
    if (!WorkspaceTooLargeError.is(error)) throw error;
    outcome = await stoppedByWorkspace(store, sessionId, turnId, publisher);
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

const workspaceLimits = (config: Config): WorkspaceLimits => ({
  maxFiles: config.WORKSPACE_MAX_FILES,
  maxBytes: config.WORKSPACE_MAX_BYTES,
});

/** Stores what the step's tools changed; the new tree, or the limit the workspace went past. */
async function saveWorkspace(
  workspace: Workspace,
  log: Logger,
): Promise<{ tree?: string; tooLarge?: WorkspaceTooLargeError }> {
  try {
    const saved = await workspace.snapshot();
    if (saved.skipped.length > 0) {
      log.warn(
        { skipped: saved.skipped.slice(0, 20), count: saved.skipped.length },
        'workspace paths not stored: special files or names that are not UTF-8',
      );
    }
    return saved.tree ? { tree: saved.tree } : {};
  } catch (error) {
    if (WorkspaceTooLargeError.is(error)) return { tooLarge: error };
    throw error;
  }
}

/**
 * The end of a turn whose workspace outgrew its limits: its last commit holds the step's results
 * and the `workspace_too_large` error and completed the input; watchers hear it finished.
 */
async function stoppedByWorkspace(
  store: SessionStore,
  sessionId: string,
  turnId: string,
  publisher: EventPublisher,
): Promise<TurnOutcome> {
  const own = (await store.entries(sessionId)).filter((e) => e.turnId === turnId);
  const usage = { input: 0, output: 0, cached: 0, reasoning: 0, costUsd: 0 };
  let steps = 0;
  for (const entry of own) {
    if (entry.kind !== 'assistant_message') continue;
    steps += 1;
    usage.input += entry.usage.input;
    usage.output += entry.usage.output;
    usage.cached += entry.usage.cached;
    usage.reasoning += entry.usage.reasoning;
    usage.costUsd += entry.usage.costUsd;
  }
  publisher.emit({ type: 'turn_finished', turnId, reason: 'error', usage, steps });
  return { reason: 'error', state: 'failed', code: 'workspace_too_large', steps, usage };
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
