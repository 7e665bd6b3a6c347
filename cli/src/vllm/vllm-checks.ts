import { readVllmLoad, vllmRootUrl } from '@tern/shared/batch/vllm-metrics-reader';
import type { LlmError, StreamFn } from '@tern/shared/llm/llm-types';
import { openAiChatAdapter } from '@tern/shared/llm/openai-chat/openai-chat-adapter';
import { chatCompatProfiles } from '@tern/shared/llm/openai-chat/openai-chat-compat';
import { defaultRetryPolicy } from '@tern/shared/llm/retry-policy';
import { driveStream } from '@tern/shared/llm/stream-driver';
import { z } from 'zod';
import { type CallBase, type CheckResult, clip, collect } from './vllm-collect.ts';
import {
  type DiagnosisContext,
  diagnoseLlmError,
  servedModelMismatch,
  unauthorized,
  unreachable,
} from './vllm-diagnosis.ts';
import { checkToolRoundTrip } from './vllm-tool-round-trip.ts';

export type VllmCheckOptions = {
  /** The server's root (`http://gpu:8000`) or its OpenAI base URL (`…/v1`). */
  url: string;
  /** The served model name; the only one served when not given. */
  model?: string;
  apiKey?: string;
  /** Deadline of each model call (default 120 s: a cold server compiles graphs first). */
  timeoutMs?: number;
  fetch?: typeof fetch;
};

export type VllmCheckReport = { url: string; model: string | undefined; results: CheckResult[] };

const modelsSchema = z.object({
  data: z.array(z.object({ id: z.string(), max_model_len: z.number().optional() })),
});

/**
 * Checks a running vLLM server the way Tern will use it: the model is listed, a plain completion
 * streams, a tool call makes a real round trip through Tern's LLM layer (the OpenAI-compatible
 * adapter with the vLLM profile), and `/metrics` has the gauges batch jobs adapt to.
 */
export async function runVllmChecks(options: VllmCheckOptions): Promise<VllmCheckReport> {
  const root = vllmRootUrl(options.url);
  const fetchFn = options.fetch ?? fetch;
  const results: CheckResult[] = [];

  const listed = await checkModels(root, options, fetchFn);
  results.push(listed.result);
  const model = options.model ?? listed.served[0];
  const ctx: DiagnosisContext = {
    url: root,
    model: model ?? '',
    apiKeyGiven: options.apiKey !== undefined,
    served: listed.served,
  };

  if (model === undefined || listed.unreachable) {
    const why = listed.unreachable ? 'the server did not answer' : 'no model to ask (--model)';
    results.push(skipped('completion', why), skipped('tool_calling', why));
  } else {
    const stream = checkStream(root, options, fetchFn);
    const base = { model, timeoutMs: options.timeoutMs ?? 120_000 };
    const completion = await checkCompletion(stream, base, ctx);
    results.push(completion);
    results.push(
      completion.status === 'ok'
        ? await checkToolRoundTrip(stream, base, ctx)
        : skipped('tool_calling', 'needs a working completion'),
    );
  }
  results.push(await checkMetrics(root, fetchFn));
  return { url: root, model, results };
}

function skipped(name: CheckResult['name'], why: string): CheckResult {
  return { name, status: 'skipped', summary: why };
}

/**
 * Tern's vLLM profile, except that tool calls leaked as text stay text: the check must see what
 * the server sends, not what Tern can repair.
 */
function checkStream(root: string, options: VllmCheckOptions, fetchFn: typeof fetch): StreamFn {
  return driveStream(
    openAiChatAdapter({
      provider: 'openai-compatible',
      apiKey: options.apiKey ?? 'no-key',
      baseURL: `${root}/v1`,
      compat: { ...chatCompatProfiles.vllm, recoverLeakedToolCalls: false },
      fetch: fetchFn,
    }),
    // One attempt: a retry would hide what is wrong.
    { retry: { ...defaultRetryPolicy, maxAttempts: 1 } },
  );
}

async function checkModels(
  root: string,
  options: VllmCheckOptions,
  fetchFn: typeof fetch,
): Promise<{ result: CheckResult; served: string[]; unreachable: boolean }> {
  const fail = (summary: string, diagnosis: string, unreachable = false) => ({
    result: { name: 'models' as const, status: 'fail' as const, summary, diagnosis },
    served: [],
    unreachable,
  });
  let response: Response;
  try {
    response = await fetchFn(`${root}/v1/models`, {
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const message = causeMessage(error);
    return fail(`GET /v1/models failed: ${message}`, unreachable(root, message), true);
  }
  const text = await response.text();
  if (response.status === 401) {
    return fail('GET /v1/models answered 401', unauthorized(options.apiKey !== undefined));
  }
  if (!response.ok) {
    return fail(
      `GET /v1/models answered ${response.status}`,
      `${root} does not look like vLLM's OpenAI-compatible server (vllm serve): give its root URL or its /v1 URL`,
    );
  }
  const parsed = modelsSchema.safeParse(safeJson(text));
  if (!parsed.success) {
    return fail('GET /v1/models is not a model list', `${root} does not answer like vLLM`);
  }
  const served = parsed.data.data.map((m) => m.id);
  const lengths = parsed.data.data.map((m) =>
    m.max_model_len === undefined ? m.id : `${m.id} (max_model_len ${m.max_model_len})`,
  );
  if (options.model !== undefined && !served.includes(options.model)) {
    return {
      result: {
        name: 'models',
        status: 'fail',
        summary: `${options.model} is not listed; serves ${served.join(', ') || 'nothing'}`,
        diagnosis: servedModelMismatch(options.model, served),
      },
      served,
      unreachable: false,
    };
  }
  if (served.length === 0) return fail('the server lists no model', 'the server serves no model');
  return {
    result: { name: 'models', status: 'ok', summary: `serves ${lengths.join(', ')}` },
    served,
    unreachable: false,
  };
}

async function checkCompletion(
  stream: StreamFn,
  base: CallBase,
  ctx: DiagnosisContext,
): Promise<CheckResult> {
  const reply = await collect(stream, {
    ...base,
    messages: [{ role: 'user', content: 'Reply with the single word: ready' }],
    maxTokens: 512,
  });
  const error: LlmError | undefined = reply.finish?.error;
  if (error) {
    return {
      name: 'completion',
      status: 'fail',
      summary: `the completion failed: ${error.kind} ${error.message}`,
      diagnosis: diagnoseLlmError(error, ctx),
    };
  }
  if (reply.text.trim() === '' && reply.reasoning.trim() === '') {
    return {
      name: 'completion',
      status: 'fail',
      summary: `the stream ended (${reply.finish?.reason}) without any text`,
      diagnosis: 'the model generated nothing: check the chat template (--chat-template)',
    };
  }
  const ttft = reply.finish?.timing?.ttftMs;
  const parts = [
    `streamed "${clip(reply.text.trim() || reply.reasoning.trim(), 40)}"`,
    ...(ttft === undefined ? [] : [`first token after ${Math.round(ttft)} ms`]),
    reply.usage ? 'with usage' : 'without usage (Tern cannot count this server’s tokens)',
  ];
  return { name: 'completion', status: 'ok', summary: parts.join(', ') };
}

async function checkMetrics(root: string, fetchFn: typeof fetch): Promise<CheckResult> {
  let read: Awaited<ReturnType<typeof readVllmLoad>>;
  try {
    read = await readVllmLoad(root, { fetch: fetchFn, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    return {
      name: 'metrics',
      status: 'fail',
      summary: `GET /metrics failed: ${causeMessage(error)}`,
      diagnosis:
        'no Prometheus metrics at /metrics: a proxy in front of vLLM may hide them; batch jobs then cannot adapt their concurrency',
    };
  }
  if (!read.ok) {
    return {
      name: 'metrics',
      status: 'fail',
      summary: `/metrics lacks ${read.missing.join(', ')}`,
      diagnosis:
        'start vLLM without --disable-log-stats (and a version that exports these gauges): batch jobs adapt their concurrency to them',
    };
  }
  const { running, waiting, kvCacheUsage, kvMetric } = read.load;
  return {
    name: 'metrics',
    status: 'ok',
    summary: `running ${running}, waiting ${waiting}, KV cache ${(kvCacheUsage * 100).toFixed(1)}% (${kvMetric})`,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** undici hides the reason of a failed fetch (ECONNREFUSED…) in `cause`. */
function causeMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
