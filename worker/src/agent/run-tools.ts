import type { ToolCall } from '@tern/shared/session/log-entry';
import type { AgentTool, ToolResult } from './agent-types.ts';

export type PlannedCall = ToolCall & { invalid?: string };

export type FinishedCall = { call: PlannedCall; result: ToolResult; durationMs: number };

/**
 * Runs one model response's tool calls concurrently and returns results in the model's order.
 * A tool that throws, is unknown, or got invalid arguments yields an error result the model can
 * read; nothing here rejects.
 */
export async function runTools(
  calls: readonly PlannedCall[],
  tools: ReadonlyMap<string, AgentTool>,
  context: { signal: AbortSignal; sessionId: string; now(): number },
): Promise<FinishedCall[]> {
  return Promise.all(
    calls.map(async (call): Promise<FinishedCall> => {
      const started = context.now();
      const result = await runOne(call, tools, context);
      return { call, result, durationMs: Math.max(0, context.now() - started) };
    }),
  );
}

async function runOne(
  call: PlannedCall,
  tools: ReadonlyMap<string, AgentTool>,
  context: { signal: AbortSignal; sessionId: string },
): Promise<ToolResult> {
  if (call.invalid !== undefined) {
    return { ok: false, output: `Invalid arguments for ${call.name}: ${call.invalid}` };
  }
  const tool = tools.get(call.name);
  if (!tool) {
    const known = [...tools.keys()].join(', ');
    return { ok: false, output: `Unknown tool ${call.name}. Available tools: ${known}` };
  }
  try {
    return await tool.execute(call.args, { signal: context.signal, sessionId: context.sessionId });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, output: `${call.name} failed: ${message}` };
  }
}
