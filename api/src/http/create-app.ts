import type { UserRateLimit } from '@tern/shared/auth/user-rate-limit';
import { type ReadinessReport, readinessStatus } from '@tern/shared/http/readiness';
import type { HttpMetrics } from '@tern/shared/obs/http-metrics';
import type { Logger } from '@tern/shared/obs/logger';
import { type Registry, writeMetrics } from '@tern/shared/obs/metrics';
import { sessionIdSchema } from '@tern/shared/protocol/api';
import { batchIdSchema } from '@tern/shared/protocol/batch-api';
import express, { type Express } from 'express';
import { type BatchDeps, batchRoutes } from '../routes/batch-routes.ts';
import { sessionOpsRoutes } from '../routes/session-ops-routes.ts';
import { sessionStatsRoutes } from '../routes/session-stats-routes.ts';
import { type SessionsDeps, sessionsRoutes } from '../routes/sessions-routes.ts';
import { toolProposalsRoutes } from '../routes/tool-proposals-routes.ts';
import { callerOf } from './auth-caller.ts';
import { ownerGate } from './auth-owner-gate.ts';
import { rateLimitPerUser } from './auth-rate-limit.ts';
import { requireAuth } from './auth-required.ts';
import { cors } from './cors.ts';
import { errorHandler, routeNotFound } from './error-handler.ts';
import { requestMetrics } from './request-metrics.ts';
import { requireJsonBody } from './require-json.ts';

export type AppDeps = SessionsDeps &
  Pick<BatchDeps, 'batches' | 'flows'> & {
    logger: Logger;
    rateLimit: UserRateLimit;
    /** What `/readyz` reports: Redis and the blob store (see dependency-checks.ts). */
    ready(): Promise<ReadinessReport>;
    /** Served at `/metrics`, with every request counted; absent when metrics are off. */
    metrics?: { registry: Registry; http: HttpMetrics } | undefined;
  };

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(cors);
  const { metrics } = deps;
  if (metrics) {
    app.use(requestMetrics(metrics.http));
    app.get('/metrics', (_req, res) => writeMetrics(metrics.registry, res));
  }
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await deps
      .ready()
      .catch((): ReadinessReport => ({ status: 'unavailable', down: [], checks: {} }));
    res.status(readinessStatus(report)).json(report);
  });
  // Everything under /v1 acts for a user; health, readiness and metrics stay open.
  app.use('/v1', requireAuth(deps.users), rateLimitPerUser(deps.rateLimit));
  app.use('/v1/sessions/:id', ownerGate('session', sessionIdSchema, deps.store));
  app.use('/v1/batches/:id', ownerGate('batch', batchIdSchema, deps.batches));
  app.use(sessionOpsRoutes(deps)); // before the JSON-only handling: import takes NDJSON
  app.use(requireJsonBody);
  app.use(batchRoutes(deps)); // before the JSON parser: a batch carries its snapshot, up to 96 MiB
  app.use(express.json({ limit: deps.config.MAX_BODY_BYTES, strict: true }));
  app.use(sessionsRoutes(deps));
  app.use(sessionStatsRoutes(deps));
  app.use(toolProposalsRoutes({ ...deps, actorOf: (req) => callerOf(req).name }));
  app.use(routeNotFound);
  app.use(errorHandler(deps.logger));
  return app;
}
