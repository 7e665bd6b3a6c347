import { z } from 'zod';
import { approvalPolicySchema } from '../protocol/approval-policy.ts';
import { webhookHooksSchema } from '../protocol/hook-config.ts';
import { type ProviderLimits, providerLimitsSchema } from '../ratelimit/provider-limits.ts';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
/** One URL, or several comma-separated: the replicas of one endpoint (see provider-endpoints.ts). */
const urlList = z
  .string()
  .refine(
    (v) => v.split(',').every((url) => z.string().url().safeParse(url.trim()).success),
    'must be a URL, or several comma-separated',
  )
  .optional();
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** A variable holding JSON for `schema`; unset or empty gives `fallback`. */
function jsonEnv<S extends z.ZodType, F>(schema: S, fallback: F) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): z.output<S> | F => {
      if (!raw) return fallback;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
        return z.NEVER;
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      ctx.addIssue({
        code: 'custom',
        message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
      return z.NEVER;
    });
}

/**
 * Every setting Tern reads, parsed once from the environment. Processes receive the parsed object;
 * nothing else reads `process.env`.
 */
/** A comma-separated list; blanks around and between items are dropped. */
const commaList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );

export const configSchema = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** `file:<dir>` (default `file:./data`) or `s3://<bucket>` */
  BLOB_STORE: z
    .string()
    .regex(/^(file:.+|s3:\/\/.+)$/, 'BLOB_STORE must be file:<dir> or s3://<bucket>')
    .default('file:./data'),
  /** The S3 store (BLOB_STORE=s3://<bucket>[/<prefix>]): unset endpoint means AWS itself. */
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** Path-style URLs (`http://host/bucket/key`), as MinIO and s3rver need. */
  S3_FORCE_PATH_STYLE: z
    .enum(['0', '1', 'true', 'false', ''])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  /** S3 credentials; when unset, the AWS SDK's default chain (profiles, instance roles) applies. */
  AWS_ACCESS_KEY_ID: optionalSecret,
  AWS_SECRET_ACCESS_KEY: optionalSecret,
  /** Total time one store operation may spend retrying 5xx, throttling and network errors. */
  S3_RETRY_BUDGET_MS: z.coerce.number().int().min(0).default(30_000),
  /** One S3 request's limit; a hung request is a failed attempt and is retried within the budget. */
  S3_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * `/readyz` probes Redis and the blob store at most this often; answers in between reuse the
   * last result, so a load balancer polling every second costs one store request per interval.
   */
  READY_PROBE_INTERVAL_MS: z.coerce.number().int().min(0).default(3_000),
  /** A readiness probe with no answer by then counts as down: a hung store never hangs `/readyz`. */
  READY_PROBE_TIMEOUT_MS: z.coerce.number().int().min(50).default(2_000),
  /** A session's newest segments are folded into a snapshot pack once there are this many (0: never). */
  SESSION_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(8),
  /** Local scratch space of a worker: materialised workspaces. */
  TERN_DATA_DIR: z.string().default('./data'),
  TERN_HOST: z.string().default('127.0.0.1'),
  API_PORT: port(4000),
  GATEWAY_PORT: port(4001),
  UI_PORT: port(3000),
  SIM_PORT: port(4010),
  WORKER_METRICS_PORT: port(0),
  /** The batch dispatcher's /healthz, /readyz and /metrics (0: any free port, logged at start). */
  DISPATCHER_METRICS_PORT: port(0),
  /** Public URLs the browser uses; derived from the request host when unset. */
  TERN_PUBLIC_API_URL: z.string().url().optional(),
  TERN_PUBLIC_GATEWAY_URL: z.string().url().optional(),
  /** Where CLI clients find the API and the gateway. */
  TERN_API_URL: z.string().url().optional(),
  TERN_GATEWAY_URL: z.string().url().optional(),
  /** The CLI's API token; when unset it reads `<TERN_DATA_DIR>/admin-token` (`tern up` writes it). */
  TERN_TOKEN: optionalSecret,
  /** Default model of new sessions: `<provider>:<model>`. */
  TERN_MODEL: z.string().optional(),
  OPENAI_API_KEY: optionalSecret,
  /** Provider keys and base URLs may each list several, comma-separated (keys or replicas). */
  OPENAI_BASE_URL: urlList,
  OPENAI_COMPATIBLE_BASE_URL: urlList,
  OPENAI_COMPATIBLE_API_KEY: optionalSecret,
  /** Which quirks table the OpenAI-compatible endpoint gets (see openai-chat-compat.ts). */
  OPENAI_COMPATIBLE_PROFILE: z.enum(['vllm', 'openai', 'generic']).default('vllm'),
  ANTHROPIC_API_KEY: optionalSecret,
  ANTHROPIC_BASE_URL: urlList,
  GEMINI_API_KEY: optionalSecret,
  GEMINI_BASE_URL: urlList,
  /** Per model call: a call without a complete answer by then fails with `timeout`. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1000).default(300_000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  /**
   * Cluster-wide provider limits as JSON (see ratelimit/provider-limits.ts), e.g.
   * {"openai":{"requestsPerMinute":500,"tokensPerMinute":200000,"models":{"gpt-4.1":{"tokensPerMinute":30000}}}}.
   */
  TERN_PROVIDER_LIMITS: jsonEnv(providerLimitsSchema, {} as ProviderLimits),
  /**
   * The longest a model call waits for provider capacity inside a worker; a longer wait hands
   * the turn back to the queue for that long, so it holds no worker slot meanwhile.
   */
  TERN_PROVIDER_MAX_WAIT_MS: z.coerce.number().int().min(0).default(2000),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Per-user API requests per second, sustained, across every API process; 0: no limit. */
  API_RATE_LIMIT_PER_SEC: z.coerce.number().min(0).default(20),
  /** Per-user API requests allowed at once after a pause (the token bucket's size). */
  API_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100),
  /** Largest session export `POST /v1/sessions/import` accepts (NDJSON, workspace included). */
  MAX_IMPORT_BYTES: z.coerce.number().int().min(1024).default(67_108_864),
  /**
   * How large a session's workspace may grow: paths (files, symlinks, empty folders) and bytes. A
   * step that leaves it larger ends its turn with a `workspace_too_large` error, unsaved.
   */
  WORKSPACE_MAX_FILES: z.coerce.number().int().min(1).default(20_000),
  WORKSPACE_MAX_BYTES: z.coerce.number().int().min(1024).default(536_870_912),
  MAX_STEPS_PER_TURN: z.coerce.number().int().min(1).default(25),
  /** Per-turn budgets; a turn past one stops with an error entry naming it. */
  MAX_TURN_TOKENS: z.coerce.number().int().positive().optional(),
  MAX_TURN_COST_USD: z.coerce.number().positive().optional(),
  MAX_TURN_WALL_MS: z.coerce.number().int().positive().optional(),
  /**
   * The deployment's approval policy as JSON (see approval-policy.ts), applied before any
   * session's own rules, e.g. {"rules":[{"tool":"bash","match":{"command":"rm\\s+-rf"},"action":"ask"}]}.
   */
  TERN_APPROVAL_POLICY: jsonEnv(approvalPolicySchema, undefined),
  /** Webhook hooks of the deployment, as a JSON array (see hook-config.ts). */
  TERN_HOOKS: jsonEnv(webhookHooksSchema, []),
  /**
   * URL prefixes a session's own webhook hooks may use, comma-separated; empty means sessions
   * cannot add hooks (an open list would let any user make the workers call any address).
   */
  TERN_SESSION_HOOK_URL_PREFIXES: commaList(),
  /**
   * How long a dead worker holds its sessions. The session lease and the turn job's queue lock both
   * lapse after this long without renewal, so a `kill -9`ed worker's turn resumes elsewhere within
   * about this time plus one stall check (a third of it). Renewal runs every third of it.
   */
  LEASE_TTL_MS: z.coerce.number().int().min(500).default(3_000),
  /** On SIGTERM, how long a worker lets running turns finish before handing them back. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  /** Turns one user may have running at once across the cluster; more wait parked. 0: no limit. */
  USER_MAX_RUNNING_TURNS: z.coerce.number().int().min(0).default(64),
  /** An accepted message whose turn job is still missing after this long is queued by a worker. */
  ENQUEUE_OUTBOX_GRACE_MS: z.coerce.number().int().min(100).default(5_000),
  EVENT_STREAM_MAXLEN: z.coerce.number().int().min(100).default(10_000),
  /**
   * A gateway client whose socket holds more than this many queued engine.io packets, or more
   * than GATEWAY_CLIENT_MAX_BYTES in its WebSocket's buffer, leaves the live room of each session
   * it watches and is caught up from the stream once it drains, so a slow reader costs a bounded
   * amount of gateway memory.
   */
  GATEWAY_CLIENT_MAX_PACKETS: z.coerce.number().int().min(1).default(1000),
  GATEWAY_CLIENT_MAX_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Events per XRANGE page when a gateway catches a client up; it waits for a drain between pages. */
  GATEWAY_CATCH_UP_PAGE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Absolute host folders every sandboxed command may write (package caches), comma-separated. */
  TERN_SANDBOX_SHARED_PATHS: commaList().pipe(
    z.array(z.string().startsWith('/', 'must be an absolute path')),
  ),
  /**
   * Absolute host folders every sandboxed command may read but not write, at the same path
   * (toolchains and dependency folders a batch job's test command uses), comma-separated.
   */
  TERN_SANDBOX_READONLY_PATHS: commaList().pipe(
    z.array(z.string().startsWith('/', 'must be an absolute path')),
  ),
  /**
   * Server folders a batch job may name as its source (`{"kind":"directory","path":…}`),
   * comma-separated; empty refuses every directory source (tarballs are always accepted).
   */
  BATCH_ALLOWED_DIRS: commaList().pipe(
    z.array(z.string().startsWith('/', 'must be an absolute path')),
  ),
  /** Batch targets one dispatcher process works on at once, whatever the adaptive limit says. */
  DISPATCHER_MAX_TARGETS: z.coerce.number().int().min(1).max(4096).default(256),
  /**
   * The vLLM `/metrics` the batch dispatcher samples for `concurrency: auto`; by default the
   * first OPENAI_COMPATIBLE_BASE_URL with `/v1` replaced by `/metrics`.
   */
  BATCH_VLLM_METRICS_URL: z.url().optional(),
  /** How often the dispatcher samples vLLM's load and checks its targets' sessions. */
  BATCH_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** Run code tools without the bwrap sandbox when it is unavailable. Never on shared hosts. */
  TERN_UNSAFE_NO_SANDBOX: z
    .enum(['0', '1', 'true', 'false', ''])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /**
   * Log each turn's prompt (the user's message). Off by default: prompts may hold anything a user
   * pasted, and log pipelines keep lines longer and more widely readable than the session store.
   */
  TERN_LOG_PROMPTS: z
    .enum(['0', '1', 'true', 'false', ''])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  /** Prometheus metrics at `/metrics` of every process; `0` turns them off (and the route 404s). */
  TERN_METRICS: z
    .enum(['0', '1', 'true', 'false', ''])
    .default('1')
    .transform((v) => v !== '0' && v !== 'false'),
  /**
   * OpenTelemetry's standard variable: the OTLP/HTTP collector base URL (e.g.
   * http://otel-collector:4318). Spans are recorded and exported only when it is set.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .pipe(z.string().url().optional()),
  /** OpenTelemetry's standard batch delay (ms) before finished spans are exported. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(1).default(5000),
  /**
   * OpenTelemetry's standard sampler argument: the share of new traces recorded (the API decides
   * at the enqueue; workers follow the trace's flag). 1 records every turn.
   */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
});

export type Config = Omit<z.infer<typeof configSchema>, 'TERN_MODEL'> & { TERN_MODEL: string };

/** Parses the environment; a bad value ends the process with a readable message, not a trace. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return { ...parsed.data, TERN_MODEL: defaultModel(parsed.data) };
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The model of new sessions: TERN_MODEL when set, else the first provider with a key, else the
 * built-in simulator, so a fresh machine runs end to end with no key at all.
 */
function defaultModel(env: z.infer<typeof configSchema>): string {
  if (env.TERN_MODEL) return env.TERN_MODEL;
  if (env.OPENAI_API_KEY) return 'openai:gpt-4.1-mini';
  return 'openai-compatible:tern-sim';
}

/** True when new sessions default to the built-in simulator (no provider configured). */
export function usesBuiltInSimulator(config: Config): boolean {
  return config.TERN_MODEL.startsWith('openai-compatible:') && !config.OPENAI_COMPATIBLE_BASE_URL;
}
