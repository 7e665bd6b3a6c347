import type { ToolCall } from '@tern/shared/session/log-entry';
import type { AgentTool, ToolResult } from './agent-types.ts';

/** A call as the loop runs it: the model's, or with arguments edited by a human or a hook. */
export type PlannedCall = ToolCall;

export type FinishedCall = { call: PlannedCall; result: ToolResult; durationMs: number };

export type ToolRunContext = { signal: AbortSignal; sessionId: string; now(): number };

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_OUTPUT_CAP = 100_000;

/**
 * Runs one model response's tool calls and returns results in the model's order. Calls start in
 * that order: `parallel` tools at once, `sequential` tools one after another (alongside parallel
 * ones), and an `exclusive` tool only after everything before it finished, with nothing beside it.
 * A tool that throws, times out, is unknown, or got invalid arguments yields an error result the
 * model can read; nothing here rejects.
 */
export async function runTools(
  calls: readonly PlannedCall[],
  tools: ReadonlyMap<string, AgentTool>,
  context: ToolRunContext,
): Promise<FinishedCall[]> {
  const results: Promise<FinishedCall>[] = [];
  let inFlight: Promise<unknown>[] = [];
  let sequential: Promise<unknown> = Promise.resolve();
  for (const call of calls) {
    const tool = tools.get(call.name);
    const run = () => timed(call, tool, tools, context);
    switch (tool?.concurrency ?? 'parallel') {
      case 'exclusive': {
        await Promise.all(inFlight);
        const alone = run();
        results.push(alone);
        await alone;
        inFlight = [];
        break;
      }
      case 'sequential': {
        const next = sequential.then(run);
        sequential = next;
        results.push(next);
        inFlight.push(next);
        break;
      }
      default: {
        const started = run();
        results.push(started);
        inFlight.push(started);
      }
    }
  }
  return Promise.all(results);
}

async function timed(
  call: PlannedCall,
  tool: AgentTool | undefined,
  tools: ReadonlyMap<string, AgentTool>,
  context: ToolRunContext,
): Promise<FinishedCall> {
  const started = context.now();
  const result = await runOne(call, tool, tools, context);
  return { call, result, durationMs: Math.max(0, context.now() - started) };
}

async function runOne(
  call: PlannedCall,
  tool: AgentTool | undefined,
  tools: ReadonlyMap<string, AgentTool>,
  context: ToolRunContext,
): Promise<ToolResult> {
  if (call.invalid !== undefined) {
    return { ok: false, output: `Invalid arguments for ${call.name}: ${call.invalid}` };
  }
  if (!tool) {
    const known = [...tools.keys()].join(', ');
    return { ok: false, output: `Unknown tool ${call.name}. Available tools: ${known}` };
  }
  if (context.signal.aborted) {
    return {
      ok: false,
      output: `${call.name} was not run: the turn was cancelled`,
      interrupted: true,
    };
  }
  const timeoutMs = tool.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  const onCancel = () => controller.abort(context.signal.reason);
  context.signal.addEventListener('abort', onCancel, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The race returns on time even when a tool ignores its signal; sandboxed tools are killed.
  const deadline = new Promise<ToolResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timeout'));
      resolve({
        ok: false,
        output: `${call.name} timed out after ${timeoutMs} ms and was stopped`,
      });
    }, timeoutMs);
  });
  const cancelled = new Promise<ToolResult>((resolve) => {
    controller.signal.addEventListener(
      'abort',
      () => {
        if (context.signal.aborted) {
          resolve({ ok: false, output: `${call.name} was cancelled`, interrupted: true });
        }
      },
      { once: true },
    );
  });
  try {
    const result = await Promise.race([
      tool.execute(call.args, { signal: controller.signal, sessionId: context.sessionId }),
      deadline,
      cancelled,
    ]);
    return capOutput(result, tool.outputCapBytes ?? DEFAULT_OUTPUT_CAP);
  } catch (error) {
    if (context.signal.aborted) {
      return { ok: false, output: `${call.name} was cancelled`, interrupted: true };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, output: `${call.name} failed: ${message}` };
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', onCancel);
  }
}

function capOutput(result: ToolResult, cap: number): ToolResult {
  const bytes = Buffer.byteLength(result.output);
  if (bytes <= cap) return result;
  const kept = Buffer.from(result.output).subarray(0, cap).toString('utf8');
  return { ...result, output: `${kept}\n[output cut: ${bytes - cap} of ${bytes} bytes dropped]` };
}
