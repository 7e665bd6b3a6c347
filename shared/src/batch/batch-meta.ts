import { z } from 'zod';
import { type BatchConcurrency, batchIdSchema, batchStatusSchema } from '../protocol/batch-api.ts';

/** A batch's meta hash as stored (every field a string), read back through this schema. */
const storedMetaSchema = z.object({
  id: batchIdSchema,
  owner: z.string().default(''),
  title: z.string().default(''),
  status: batchStatusSchema,
  createdAt: z.coerce.number(),
  finishedAt: z.coerce.number().optional(),
  framework: z.string(),
  testCommand: z.string(),
  model: z.string(),
  concurrency: z.string().regex(/^(auto|[1-9]\d*)$/),
  allowTouchingSource: z.enum(['true', 'false']),
  snapshotTree: z.string(),
  total: z.coerce.number().int().nonnegative(),
  attemptFlow: z.coerce.number().int().positive(),
  request: z.string().default('{}'),
});

export type BatchMeta = {
  id: string;
  /** The user who created it ('' where users are off). */
  owner: string;
  title?: string;
  status: z.infer<typeof batchStatusSchema>;
  createdAt: number;
  finishedAt?: number;
  framework: string;
  testCommand: string;
  model: string;
  concurrency: BatchConcurrency;
  allowTouchingSource: boolean;
  /** The workspace tree of the snapshot (stored under the batch id, workspace-store.ts). */
  snapshotTree: string;
  total: number;
  /** Flows added so far: 1, then +1 per retry; the parent of the latest one ends the batch. */
  attemptFlow: number;
  /** The validated request, without its source. */
  request: Record<string, unknown>;
};

/** The hash fields of a new batch's meta. */
export function metaFields(meta: BatchMeta): Record<string, string> {
  return {
    id: meta.id,
    owner: meta.owner,
    title: meta.title ?? '',
    status: meta.status,
    createdAt: String(meta.createdAt),
    ...(meta.finishedAt !== undefined ? { finishedAt: String(meta.finishedAt) } : {}),
    framework: meta.framework,
    testCommand: meta.testCommand,
    model: meta.model,
    concurrency: String(meta.concurrency),
    allowTouchingSource: String(meta.allowTouchingSource),
    snapshotTree: meta.snapshotTree,
    total: String(meta.total),
    attemptFlow: String(meta.attemptFlow),
    request: JSON.stringify(meta.request),
  };
}

/** The meta from its hash; `undefined` for an absent or unreadable one. */
export function parseMeta(raw: Record<string, string>): BatchMeta | undefined {
  const parsed = storedMetaSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const m = parsed.data;
  let request: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(m.request);
    if (typeof value === 'object' && value !== null) request = value as Record<string, unknown>;
  } catch {
    // A damaged copy of the request loses only its display; the batch runs from prepared.json.
  }
  return {
    id: m.id,
    owner: m.owner,
    ...(m.title ? { title: m.title } : {}),
    status: m.status,
    createdAt: m.createdAt,
    ...(m.finishedAt !== undefined ? { finishedAt: m.finishedAt } : {}),
    framework: m.framework,
    testCommand: m.testCommand,
    model: m.model,
    concurrency: m.concurrency === 'auto' ? 'auto' : Number(m.concurrency),
    allowTouchingSource: m.allowTouchingSource === 'true',
    snapshotTree: m.snapshotTree,
    total: m.total,
    attemptFlow: m.attemptFlow,
    request,
  };
}
