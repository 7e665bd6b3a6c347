import type { Logger } from '@tern/shared/obs/logger';
import express, { type Express } from 'express';
import { sessionOpsRoutes } from '../routes/session-ops-routes.ts';
import { type SessionsDeps, sessionsRoutes } from '../routes/sessions-routes.ts';
import { toolProposalsRoutes } from '../routes/tool-proposals-routes.ts';
import { cors } from './cors.ts';
import { errorHandler, routeNotFound } from './error-handler.ts';
import { requireJsonBody } from './require-json.ts';

export type AppDeps = SessionsDeps & { logger: Logger; ready(): Promise<boolean> };

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(cors);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ok = await deps.ready().catch(() => false);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'unavailable' });
  });
  app.use(sessionOpsRoutes(deps)); // before the JSON-only handling: import takes NDJSON
  app.use(requireJsonBody);
  app.use(express.json({ limit: deps.config.MAX_BODY_BYTES, strict: true }));
  app.use(sessionsRoutes(deps));
  app.use(toolProposalsRoutes(deps));
  app.use(routeNotFound);
  app.use(errorHandler(deps.logger));
  return app;
}
