import type { UserStore } from '@tern/shared/auth/user-store';
import type { Config } from '@tern/shared/config/config';
import { notFound, TernError } from '@tern/shared/errors/tern-error';
import type { Tracing } from '@tern/shared/obs/tracing';
import {
  approvalDecisionBodySchema,
  createSessionBodySchema,
  type DoubleTexting,
  listSessionsQuerySchema,
  type PostMessageBody,
  type PostMessageResponse,
  patchSessionBodySchema,
  postMessageBodySchema,
  type SessionDetail,
} from '@tern/shared/protocol/api';
import { wakeCapacityWait } from '@tern/shared/queue/capacity-wait';
import { closeTicket, openTicket } from '@tern/shared/queue/enqueue-outbox';
import { fairPriority } from '@tern/shared/queue/fair-queue';
import { TURN_QUEUE, type TurnJobData, turnJobId } from '@tern/shared/queue/turn-queue';
import { SessionStore, turnIdFor } from '@tern/shared/session/session-store';
import type { Queue } from 'bullmq';
import { Router } from 'express';
import { callerOf } from '../http/auth-caller.ts';
import { sessionIndexFor } from '../http/auth-list-scope.ts';
import { sessionIdParam } from '../http/session-id-param.ts';
import { enqueueTurn } from '../http/traced-enqueue.ts';
import { parseOr400 } from '../http/validate.ts';

export type SessionsDeps = {
  config: Config;
  store: SessionStore;
  turns: Queue<TurnJobData>;
  users: UserStore;
  /** Spans of enqueues; absent, job data still carries a trace id for the logs. */
  tracing?: Tracing | undefined;
};

export function sessionsRoutes(deps: SessionsDeps): Router {
  const { store, turns, config } = deps;
  const router = Router();

  router.get('/v1/sessions', async (req, res) => {
    const query = parseOr400(listSessionsQuerySchema, req.query, 'query');
    const index = await sessionIndexFor(callerOf(req), query, deps.users);
    const page = await store.list(query.limit, Number(query.cursor ?? 0), index);
    res.json({
      sessions: page.sessions.map(SessionStore.summary),
      nextCursor: page.next === null ? null : String(page.next),
    });
  });

  router.post('/v1/sessions', async (req, res) => {
    const body = parseOr400(createSessionBodySchema, req.body ?? {}, 'body');
    const refused = body.hooks?.find(
      (h) => !config.TERN_SESSION_HOOK_URL_PREFIXES.some((prefix) => h.url.startsWith(prefix)),
    );
    if (refused) {
      throw new TernError({
        code: 'hook_url_not_allowed',
        status: 400,
        message: `hook ${refused.name}: ${refused.url} is not under an allowed prefix (TERN_SESSION_HOOK_URL_PREFIXES)`,
      });
    }
    const meta = await store.create({
      owner: callerOf(req).id,
      title: body.title,
      model: body.model ?? config.TERN_MODEL,
      systemPrompt: body.systemPrompt,
      sim: body.sim,
      approvals: body.approvals,
      hooks: body.hooks,
      doubleTexting: body.doubleTexting,
      files: body.files,
    });
    res.status(201).json({ session: SessionStore.summary(meta) });
  });

  router.get('/v1/sessions/:id', async (req, res) => {
    const id = sessionIdParam(req.params.id);
    // The cursor is read before the log: events after it may repeat entries the client already
    // has (it deduplicates by seq), but none can fall between the two reads and be lost.
    const lastEventId = await store.lastEventId(id);
    const meta = await store.meta(id);
    if (!meta) throw notFound('session', id);
    const [entries, pending] = await Promise.all([store.entries(id), store.pendingInputs(meta)]);
    const detail: SessionDetail = {
      session: SessionStore.summary(meta),
      entries,
      pending: pending.filter((p) => !entries.some((e) => e.turnId === p.turnId)),
      lastEventId,
    };
    res.json(detail);
  });

  router.patch('/v1/sessions/:id', async (req, res) => {
    const id = sessionIdParam(req.params.id);
    const body = parseOr400(patchSessionBodySchema, req.body ?? {}, 'body');
    if (!(await store.update(id, body))) throw notFound('session', id);
    const meta = await store.meta(id);
    if (!meta) throw notFound('session', id);
    res.json({ session: SessionStore.summary(meta) });
  });

  router.post('/v1/sessions/:id/approvals/:callId', async (req, res) => {
    const id = sessionIdParam(req.params.id);
    const callId = String(req.params.callId ?? '');
    const body = parseOr400(approvalDecisionBodySchema, req.body ?? {}, 'body');
    const meta = await store.meta(id);
    if (!meta) throw notFound('session', id);
    const entries = await store.entries(id);
    const requested = entries.find((e) => e.kind === 'approval_requested' && e.callId === callId);
    if (!requested) throw notFound('approval', callId);
    const decision = {
      decision: body.approve ? ('approve' as const) : ('deny' as const),
      by: callerOf(req).name,
      ...(body.args ? { args: body.args } : {}),
      ...(body.reason ? { reason: body.reason } : {}),
    };
    const logged = entries.find((e) => e.kind === 'approval_decided' && e.callId === callId);
    const recorded = logged
      ? logged.kind === 'approval_decided' && logged.decision === decision.decision
        ? 'same'
        : 'conflict'
      : await store.recordDecision(id, callId, decision);
    if (recorded === 'conflict') {
      throw new TernError({
        code: 'already_decided',
        status: 409,
        message: `the call ${callId} was already decided the other way`,
      });
    }
    // The paused turn resumes on whichever worker takes this job; the id makes a retried POST
    // enqueue it once.
    const data: TurnJobData = {
      sessionId: id,
      inputSeq: meta.doneInputSeq + 1,
      enqueuedAt: Date.now(),
    };
    // Resuming after a human's decision: ahead of every queued turn.
    await enqueueTurn(turns, data, `resume-${id}-${callId.replace(/[^A-Za-z0-9_-]/g, '_')}`, {
      tracing: deps.tracing,
      traceparent: req.get('traceparent'),
    });
    res.status(202).json({ callId, decision: decision.decision, duplicate: recorded === 'same' });
  });

  router.post('/v1/sessions/:id/cancel', async (req, res) => {
    const id = sessionIdParam(req.params.id);
    const turnId = await store.requestCancel(id);
    if (turnId === undefined) throw notFound('session', id);
    // A turn waiting in the queue for provider capacity runs now, finds the cancel and ends.
    if (turnId !== null) await wakeCapacityWait(turns, store.redis, id);
    res.status(turnId === null ? 200 : 202).json({ turnId });
  });

  router.post('/v1/sessions/:id/messages', async (req, res) => {
    const id = sessionIdParam(req.params.id);
    const body = parseOr400(postMessageBodySchema, req.body, 'body');
    const policy = await doubleTextingOf(id, body.mode);
    if (policy === 'steer') {
      const running = await store.steer(id, body.text);
      if (running === undefined) throw notFound('session', id);
      if (running > 0) {
        const steered: PostMessageResponse = {
          turnId: turnIdFor(id, running),
          inputSeq: running,
          duplicate: false,
          steered: true,
        };
        res.status(202).json(steered);
        return;
      }
    }
    // Cancels the running turn (or the first queued one); the worker then answers this input.
    if (policy === 'interrupt') {
      const cancelled = await store.requestCancel(id);
      if (cancelled === undefined) throw notFound('session', id);
      if (cancelled !== null) await wakeCapacityWait(turns, store.redis, id);
    }
    // A ticket until the job is queued: if this process dies in between, a worker's outbox
    // sweep queues the turn (see enqueue-outbox.ts).
    const ticket = openTicket(store.redis, id);
    const appended = await store.appendInput(id, body.text, body.clientMessageId, {
      ifIdle: policy === 'reject',
    });
    if (!appended || appended === 'busy') {
      closeTicket(store.redis, ticket);
      if (!appended) throw notFound('session', id);
      throw new TernError({
        code: 'session_busy',
        status: 409,
        message: `session ${id} is answering another message and its double-texting policy is reject`,
      });
    }
    // Only another user's admin reads the owner; everyone else owns what they may write to.
    const caller = callerOf(req);
    const owner = caller.admin ? ((await store.owner(id)) ?? '') : caller.id;
    const data: TurnJobData = {
      sessionId: id,
      inputSeq: appended.inputSeq,
      enqueuedAt: Date.now(),
      owner,
      priority: body.priority,
    };
    try {
      // A retried message's job exists already: it is neither counted again nor re-added.
      const priority = appended.duplicate
        ? undefined
        : await fairPriority(store.redis, body.priority, owner);
      await enqueueTurn(
        turns,
        data,
        turnJobId(id, appended.inputSeq),
        { tracing: deps.tracing, traceparent: req.get('traceparent') },
        priority,
      );
      closeTicket(store.redis, ticket);
    } catch (error) {
      throw new TernError({
        code: 'queue_unavailable',
        status: 503,
        retryable: true,
        message: `the turn queue ${TURN_QUEUE} is unavailable; retry with the same clientMessageId`,
        cause: error,
      });
    }
    const response: PostMessageResponse = {
      turnId: turnIdFor(id, appended.inputSeq),
      inputSeq: appended.inputSeq,
      duplicate: appended.duplicate,
      steered: false,
    };
    res.status(202).json(response);
  });

  /** The message's own mode, else the session's policy (one read only when the message has none). */
  async function doubleTextingOf(
    id: string,
    mode: PostMessageBody['mode'],
  ): Promise<DoubleTexting> {
    if (mode === 'queue') return 'enqueue';
    if (mode) return mode;
    const policy = await store.doubleTexting(id);
    if (!policy) throw notFound('session', id);
    return policy;
  }

  return router;
}
