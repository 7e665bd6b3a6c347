import type { ToolArgsResult } from './llm-types.ts';

/**
 * Parses a closed tool call's raw argument text. An empty string means "no arguments" (several
 * OpenAI-compatible servers send none for argument-less calls). Anything that is not a JSON
 * object is rejected here, so truncated or invalid JSON never reaches a tool.
 */
export function parseToolArgs(raw: string): ToolArgsResult {
  if (raw.trim() === '') return { ok: true, args: {} };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `tool arguments are not valid JSON (${reason})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'tool arguments must be a JSON object' };
  }
  return { ok: true, args: value as Record<string, unknown> };
}
