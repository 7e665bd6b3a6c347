import { notFound, TernError } from '@tern/shared/errors/tern-error';
import { sessionIdSchema } from '@tern/shared/protocol/api';
import type { SessionStore } from '@tern/shared/session/session-store';
import {
  type ListToolProposalsResponse,
  listToolProposalsQuerySchema,
  type ToolProposalResponse,
  toolProposalDecisionBodySchema,
} from '@tern/shared/tools/tool-proposal-api';
import { toolProposalIdSchema } from '@tern/shared/tools/tool-proposal-schema';
import { ToolProposalStore } from '@tern/shared/tools/tool-proposal-store';
import { type Request, Router } from 'express';
import type { z } from 'zod';
import { parseOr400 } from '../http/validate.ts';

export type ToolProposalsDeps = {
  store: SessionStore;
  /** Who is deciding, recorded with the decision: the API passes the authenticated user's name. */
  actorOf?: (req: Request) => string;
};

const param = (raw: string | string[] | undefined, schema: z.ZodString, what: string) => {
  const parsed = schema.safeParse(raw);
  // A malformed id names nothing that exists: the same 404 as a well-formed unknown one.
  if (!parsed.success) throw notFound(what, String(raw));
  return parsed.data;
};

/**
 * Review of the tools a session's agent proposed: list and read them (code, schema, reason,
 * decision), approve or reject each once. Approved tools are offered from the session's next turn
 * on and run only in the sandbox.
 */
export function toolProposalsRoutes(deps: ToolProposalsDeps): Router {
  const { store } = deps;
  const proposals = ToolProposalStore.of(store);
  const actorOf = deps.actorOf ?? (() => 'anonymous');
  const router = Router();

  const existingSession = async (req: Request) => {
    const id = param(req.params.id, sessionIdSchema, 'session');
    if (!(await store.meta(id))) throw notFound('session', id);
    return id;
  };
  const proposalIdParam = (req: Request) =>
    param(req.params.proposalId, toolProposalIdSchema, 'tool_proposal');

  router.get('/v1/sessions/:id/tool-proposals', async (req, res) => {
    const query = parseOr400(listToolProposalsQuerySchema, req.query, 'query');
    const sessionId = await existingSession(req);
    const all = await proposals.list(sessionId);
    const body: ListToolProposalsResponse = {
      proposals: query.status ? all.filter((p) => p.status === query.status) : all,
    };
    res.json(body);
  });

  router.get('/v1/sessions/:id/tool-proposals/:proposalId', async (req, res) => {
    const sessionId = await existingSession(req);
    const proposalId = proposalIdParam(req);
    const proposal = await proposals.get(sessionId, proposalId);
    if (!proposal) throw notFound('tool_proposal', proposalId);
    res.json({ proposal } satisfies ToolProposalResponse);
  });

  router.post('/v1/sessions/:id/tool-proposals/:proposalId/decision', async (req, res) => {
    const sessionId = await existingSession(req);
    const proposalId = proposalIdParam(req);
    const body = parseOr400(toolProposalDecisionBodySchema, req.body ?? {}, 'body');
    const decision = { approve: body.approve, reason: body.reason, by: actorOf(req) };
    const result = await proposals.decide(sessionId, proposalId, decision, Date.now());
    switch (result.kind) {
      case 'decided':
      case 'unchanged':
        res.json({ proposal: result.proposal } satisfies ToolProposalResponse);
        return;
      case 'not_found':
        throw notFound('tool_proposal', proposalId);
      case 'already_decided':
        throw new TernError({
          code: 'already_decided',
          status: 409,
          message: `tool proposal ${proposalId} was already ${result.proposal.status}; a decision is final`,
          details: { status: result.proposal.status },
        });
      case 'name_taken':
        throw new TernError({
          code: 'tool_name_taken',
          status: 409,
          message: `another approved tool proposal (${result.holder}) of this session already has this name`,
          details: { holder: result.holder },
        });
    }
  });

  return router;
}
