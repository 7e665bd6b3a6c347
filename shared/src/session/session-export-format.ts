import { z } from 'zod';
import { modelRefSchema, simControlsSchema, workspacePathSchema } from '../protocol/api.ts';
import { approvalPolicySchema } from '../protocol/approval-policy.ts';
import { logEntrySchema } from './log-entry.ts';
import { workspaceModeSchema } from './workspace-tree.ts';

/**
 * A session exported as NDJSON (`application/x-ndjson`), one JSON object per line, each with a
 * `type`: first the `session` descriptor, then every log entry in order (`entry`), then every
 * workspace file (`file`, content in base64 so binary files survive), and last an `end` line with
 * the counts, so a truncated download is recognised instead of imported as a shorter session.
 */
export const EXPORT_FORMAT = 'tern.session';
export const EXPORT_VERSION = 1;
export const NDJSON = 'application/x-ndjson';

export const forkOriginSchema = z.object({
  sessionId: z.string(),
  seq: z.number().int().nonnegative(),
});

/** Checked first, on its own, so a newer or foreign file gets a precise answer. */
export const exportFormatSchema = z.object({
  type: z.literal('session'),
  format: z.literal(EXPORT_FORMAT),
  version: z.number().int(),
});

export const exportHeaderSchema = z
  .object({
    type: z.literal('session'),
    format: z.literal(EXPORT_FORMAT),
    version: z.literal(EXPORT_VERSION),
    /** The id the session had where it was exported; an import gets a fresh one. */
    sessionId: z.string(),
    /** The exporting deployment's user id of the owner; an import is owned by the importer. */
    owner: z.string().max(100).optional(),
    title: z.string().trim().min(1).max(200),
    model: modelRefSchema,
    systemPrompt: z.string().max(20_000),
    sim: simControlsSchema.optional(),
    approvals: approvalPolicySchema.optional(),
    createdAt: z.number().int(),
    forkedFrom: forkOriginSchema.nullable(),
    lastSeq: z.number().int().nonnegative(),
    exportedAt: z.number().int(),
  })
  .strict();
export type ExportHeader = z.infer<typeof exportHeaderSchema>;

export const exportEntryLineSchema = z
  .object({ type: z.literal('entry'), entry: logEntrySchema })
  .strict();

const base64 = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'not base64');

/**
 * A workspace path. `mode` (workspace-tree.ts) is absent for a regular file; an executable file
 * is `0o100755`, a symlink `0o120000` with its target as content, an empty folder `0o040000`.
 */
export const exportFileLineSchema = z
  .object({
    type: z.literal('file'),
    path: workspacePathSchema,
    base64,
    mode: workspaceModeSchema.optional(),
  })
  .strict();

export const exportEndLineSchema = z
  .object({
    type: z.literal('end'),
    entries: z.number().int().nonnegative(),
    files: z.number().int().nonnegative(),
  })
  .strict();

export type ExportLine =
  | ExportHeader
  | z.infer<typeof exportEntryLineSchema>
  | z.infer<typeof exportFileLineSchema>
  | z.infer<typeof exportEndLineSchema>;
