import { createHash } from 'node:crypto';
import type { ToolDefinition } from './tool-proposal-schema.ts';

/**
 * The content hash of a definition. Keys are sorted at every depth, so the same schema written
 * with its keys in another order is the same proposal; the reason is left out, so re-proposing a
 * tool with other words finds the first proposal instead of queueing a second review.
 */
export function toolProposalIdFor(definition: ToolDefinition): string {
  const { name, description, parameters, runtime, code } = definition;
  const canonical = canonicalJson({ name, description, parameters, runtime, code });
  return `tp_${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}`;
}

/** JSON with object keys in code-point order at every depth. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}
