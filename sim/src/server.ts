import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleMessages } from './anthropic/anthropic-messages-route.ts';
import { handleModels } from './anthropic/anthropic-models.ts';
import type { SimFault } from './faults.ts';
import { handleListGeminiModels } from './gemini/gemini-models.ts';
import { handleGeminiModelMethod } from './gemini/gemini-route.ts';
import {
  type LatencyModel,
  type RouteLatency,
  resolveLatency,
  resolveRouteLatency,
  type SimRoute,
} from './latency.ts';
import { createSimMetrics } from './metrics.ts';
import { handleChatCompletions } from './openai/openai-chat-route.ts';
import { OPENAI_DIALECTS, type OpenAiDialectName } from './openai/openai-dialect.ts';
import { sendOpenAiError, serverError, unknownUrl } from './openai/openai-errors.ts';
import { requestId } from './openai/openai-ids.ts';
import { handleHealth, handleMetrics } from './ops-routes.ts';
import { mulberry32 } from './random.ts';
import { createRequestLog, handleRequestLog } from './request-log.ts';
import { type ScenarioSource, scenarioMap } from './scenario.ts';
import { handleListScenarios, handlePutScenario } from './scenario-routes.ts';
import type { RouteHandler, SimContext, SimExchange } from './sim-context.ts';
import { createSlotQueue } from './slot-queue.ts';

export interface SimServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  latency?: Partial<LatencyModel>;
  /** Seeds every id and jitter draw; the same seed and requests give the same bytes. */
  seed?: number;
  /** Fault for requests without an `x-tern-sim-fault` header. */
  fault?: SimFault;
  /** Per-wire TTFT, ITL and jitter over `latency`; slots and batching stay server-wide. */
  latencyByRoute?: Partial<Record<SimRoute, RouteLatency>>;
  /** The OpenAI-compatible route's dialect when a request names none (default `openai`). */
  dialect?: OpenAiDialectName;
  /** Scripted scenarios (a list, or a record by name), validated at start. */
  scenarios?: ScenarioSource;
  /** Serve only this model name, like vLLM's `--served-model-name` (default: any name). */
  servedModelName?: string;
}

export interface SimServer {
  url: string;
  port: number;
  /**
   * Stops listening and drops every open connection, hung and streaming ones included. Calling it
   * again returns the same promise.
   */
  close(): Promise<void>;
}

interface Route {
  method: string;
  path: string;
  handle: RouteHandler;
}

const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/v1/chat/completions', handle: handleChatCompletions },
  { method: 'POST', path: '/v1/messages', handle: handleMessages },
  { method: 'GET', path: '/v1/models', handle: handleModels },
  // Gemini puts the model and method in one segment: `/v1beta/models/{model}:generateContent`.
  { method: 'POST', path: '/v1beta/models/*', handle: handleGeminiModelMethod },
  { method: 'GET', path: '/v1beta/models', handle: handleListGeminiModels },
  { method: 'GET', path: '/health', handle: handleHealth },
  { method: 'GET', path: '/metrics', handle: handleMetrics },
  { method: 'GET', path: '/sim/scenarios', handle: handleListScenarios },
  { method: 'PUT', path: '/sim/scenarios/*', handle: handlePutScenario },
  { method: 'GET', path: '/sim/requests', handle: handleRequestLog },
];

/** A path ending in `/*` matches one more non-empty segment. */
function matches(route: Route, path: string): boolean {
  if (!route.path.endsWith('/*')) return route.path === path;
  const prefix = route.path.slice(0, -1);
  const rest = path.slice(prefix.length);
  return path.startsWith(prefix) && rest !== '' && !rest.includes('/');
}

/** Longer than common clients' idle timeouts, so a client never reuses a socket being closed. */
const KEEP_ALIVE_MS = 65_000;

export async function createSimServer(options: SimServerOptions = {}): Promise<SimServer> {
  const latency = resolveLatency(options.latency);
  const seed = options.seed ?? 0;
  const ctx: SimContext = {
    latency,
    seed,
    fault: options.fault,
    slots: createSlotQueue(latency.concurrency, latency.kvCacheTokens),
    metrics: createSimMetrics(),
    requests: createRequestLog(),
    random: mulberry32(seed),
    routeLatency: resolveRouteLatency(latency, options.latencyByRoute),
    dialect: OPENAI_DIALECTS[options.dialect ?? 'openai'],
    scenarios: scenarioMap(options.scenarios),
    servedModel: options.servedModelName,
  };
  // Nagle off: streamed chunks are small and latency benchmarks must not see 40 ms ACK stalls.
  const server = createServer({ noDelay: true, keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) =>
    dispatch(req, res, ctx),
  );
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function dispatch(req: IncomingMessage, res: ServerResponse, ctx: SimContext): void {
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  const route = ROUTES.find((r) => r.method === req.method && matches(r, path));
  const label = route?.path ?? 'unmatched';
  const controller = new AbortController();
  ctx.metrics.requestStarted();
  const logged = ctx.requests.started(label, req.headers);
  res.once('close', () => {
    controller.abort();
    const status = res.writableFinished ? String(res.statusCode) : 'aborted';
    ctx.metrics.requestEnded(label, status);
    ctx.requests.ended(logged, status);
  });
  const exchange: SimExchange = {
    req,
    res,
    ctx,
    requestId: requestId(ctx.random),
    signal: controller.signal,
  };
  if (!route) {
    sendOpenAiError(exchange, { status: 404, body: unknownUrl(req.method ?? 'GET', path) });
    return;
  }
  Promise.resolve()
    .then(() => route.handle(exchange))
    .catch((error: unknown) => {
      // A bug in the simulator: say so as OpenAI would, or cut the stream if it already started.
      console.error('tern sim: request failed', error);
      if (res.headersSent) res.destroy();
      else sendOpenAiError(exchange, { status: 500, body: serverError() });
    });
}
