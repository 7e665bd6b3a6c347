import { notFound } from '@tern/shared/errors/tern-error';
import { type SessionStats, sessionStatsQuerySchema } from '@tern/shared/protocol/session-stats';
import { sessionLogFootprint } from '@tern/shared/session/session-log-footprint';
import { sessionStatsFromLog } from '@tern/shared/session/session-stats';
import type { SessionStore } from '@tern/shared/session/session-store';
import { Router } from 'express';
import { sessionIdParam } from '../http/session-id-param.ts';
import { parseOr400 } from '../http/validate.ts';

/**
 * `GET /v1/sessions/:id/stats`: the session's tool-call graph with timings, token and cost
 * totals, log size and checkpoint count, for the UI and `tern session stats`.
 */
export function sessionStatsRoutes(deps: { store: SessionStore }): Router {
  const { store } = deps;
  const router = Router();

  router.get('/v1/sessions/:id/stats', async (req, res) => {
    const id = sessionIdParam(req.params.id);
    const query = parseOr400(sessionStatsQuerySchema, req.query, 'query');
    if (!(await store.meta(id))) throw notFound('session', id);
    const [entries, footprint] = await Promise.all([
      store.entries(id),
      sessionLogFootprint(store.redis, store.blobs, id),
    ]);
    const stats: SessionStats = {
      sessionId: id,
      ...sessionStatsFromLog(entries, query.turns),
      log: { entries: entries.length, bytes: footprint.bytes },
      checkpoints: { commits: footprint.commits, snapshots: footprint.snapshots },
    };
    res.json(stats);
  });

  return router;
}
