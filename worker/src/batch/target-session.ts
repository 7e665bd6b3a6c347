import type { BatchMeta } from '@tern/shared/batch/batch-meta';
import {
  type PreparedBatchFile,
  type PreparedTarget,
  renderTargetSim,
} from '@tern/shared/batch/batch-prepared';
import { batchTargetSessionId } from '@tern/shared/protocol/batch-api';
import { closeTicket, openTicket } from '@tern/shared/queue/enqueue-outbox';
import { fairPriority } from '@tern/shared/queue/fair-queue';
import { type TurnJobData, turnJobId, turnJobOptions } from '@tern/shared/queue/turn-queue';
import type { SessionMeta, SessionStore } from '@tern/shared/session/session-store';
import { Job, type Queue } from 'bullmq';

/** Why a batch target's agent exists: it writes tests, and only tests unless allowed. */
export function batchSystemPrompt(allowTouchingSource: boolean): string {
  const source = allowTouchingSource
    ? 'Change the code under test only to fix a real bug a test exposed, and say so.'
    : 'Never change the code under test: when a test exposes a bug, keep the test, mark it as ' +
      'an expected failure or skip it with a comment naming the bug, and say so.';
  return (
    'You are Tern, a coding agent writing automated tests in the session workspace (a copy of ' +
    'the project). Read the code under test first, write focused tests with the project’s own ' +
    'test framework, run them with the bash tool, read the failures and fix the tests until ' +
    `they pass. ${source} Stop as soon as the tests pass, with a short summary of what they cover.`
  );
}

export const targetSessionTitle = (batchId: string, target: PreparedTarget) =>
  `batch ${batchId} · ${target.name ? `${target.file}#${target.name}` : target.file}`.slice(0, 200);

/**
 * The session of one attempt of a target, created on first use. Its id derives from the batch,
 * the target and the attempt, so a dispatcher resuming the job finds the session its first try
 * made rather than starting another agent; creating it again returns it unchanged. Its workspace
 * starts at the batch's snapshot tree, read from the batch's store (shared, not copied).
 */
export async function ensureTargetSession(
  store: SessionStore,
  batch: BatchMeta,
  prepared: PreparedBatchFile,
  target: PreparedTarget,
  attempt: number,
): Promise<SessionMeta> {
  const id = batchTargetSessionId(batch.id, target.index, attempt);
  const existing = await store.meta(id);
  if (existing) return existing;
  const budget = prepared.budgets.perTarget;
  const sim = renderTargetSim(prepared.sim, target);
  return store.create({
    id,
    owner: batch.owner,
    title: targetSessionTitle(batch.id, target),
    model: prepared.model,
    systemPrompt: batchSystemPrompt(prepared.allowTouchingSource),
    ...(sim ? { sim } : {}),
    doubleTexting: 'enqueue',
    workspaceBase: { tree: batch.snapshotTree, ancestors: [batch.id] },
    budgets: {
      maxSteps: budget.maxSteps,
      maxWallMs: budget.maxWallSeconds * 1000,
      ...(budget.maxTokens !== undefined ? { maxTokens: budget.maxTokens } : {}),
      ...(budget.maxCostUsd !== undefined ? { maxCostUsd: budget.maxCostUsd } : {}),
    },
  });
}

/** The idempotency key of a target attempt's prompt: a resumed job appends nothing new. */
export const targetClientMessageId = (targetId: string, attempt: number) =>
  `batch-${targetId}-a${attempt}`;

export type QueuedTurn = { inputSeq: number; duplicate: boolean };

/**
 * Appends the target's prompt and queues its turn as the API queues a message's: an outbox
 * ticket until the job is added (a dispatcher dying in between leaves the sweep to queue it),
 * the deterministic turn job id, and the `batch` class of the fair queue, below every user's
 * interactive turns. A resumed job finds its input by its client message id and adds the turn
 * job only if it is neither queued nor done, so the user's fair-queue count grows once per turn.
 */
export async function enqueueTargetTurn(
  store: SessionStore,
  turns: Queue<TurnJobData>,
  session: SessionMeta,
  prompt: string,
  clientMessageId: string,
): Promise<QueuedTurn> {
  // Left open when queueing fails: the outbox sweep then queues the turn if no retry does.
  const ticket = openTicket(store.redis, session.id);
  const appended = await store.appendInput(session.id, prompt, clientMessageId);
  if (!appended) {
    closeTicket(store.redis, ticket);
    throw new Error(`session ${session.id} disappeared before its prompt`);
  }
  const jobId = turnJobId(session.id, appended.inputSeq);
  if (appended.duplicate) {
    const meta = await store.meta(session.id);
    const done = meta !== undefined && meta.doneInputSeq >= appended.inputSeq;
    if (done || (await Job.fromId(turns, jobId))) {
      closeTicket(store.redis, ticket);
      return appended;
    }
  }
  const data: TurnJobData = {
    sessionId: session.id,
    inputSeq: appended.inputSeq,
    enqueuedAt: Date.now(),
    owner: session.owner,
    priority: 'batch',
  };
  const priority = await fairPriority(store.redis, 'batch', session.owner);
  await turns.add('turn', data, turnJobOptions(jobId, priority));
  closeTicket(store.redis, ticket);
  return appended;
}
