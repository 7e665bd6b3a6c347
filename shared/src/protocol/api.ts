import { z } from 'zod';
import { logEntrySchema } from '../session/log-entry.ts';

export const sessionIdSchema = z
  .string()
  .regex(/^ses_[A-Za-z0-9]{8,40}$/, 'session ids look like ses_<alphanumerics>');

/** `<provider>:<model>`; the provider part selects the adapter. */
export const modelRefSchema = z
  .string()
  .regex(
    /^(openai|openai-compatible|anthropic|gemini):[\w.\-/:@]+$/,
    'model is <provider>:<model> with provider openai, openai-compatible, anthropic or gemini',
  );

const workspacePath = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'), {
    message: 'workspace paths are relative and stay inside the workspace',
  });

/**
 * Simulator controls for a session's model calls (demos, load tests, scripted test runs). They
 * travel as `x-tern-sim-*` headers, which real providers ignore.
 */
export const simControlsSchema = z
  .object({
    scenario: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/)
      .optional(),
    fault: z
      .string()
      .regex(/^[a-z_]{1,40}$/)
      .optional(),
    ttftMs: z.number().int().min(0).max(600_000).optional(),
    itlMs: z.number().int().min(0).max(60_000).optional(),
  })
  .strict();
export type SimControls = z.infer<typeof simControlsSchema>;

export const createSessionBodySchema = z
  .object({
    title: z.string().trim().min(1).max(200).optional(),
    model: modelRefSchema.optional(),
    systemPrompt: z.string().max(20_000).optional(),
    sim: simControlsSchema.optional(),
    /** Files to seed the session's workspace with (path → UTF-8 content). */
    files: z
      .record(workspacePath, z.string().max(1_000_000))
      .refine((f) => Object.keys(f).length <= 200, { message: 'at most 200 files' })
      .optional(),
  })
  .strict();
export type CreateSessionBody = z.infer<typeof createSessionBodySchema>;

/** Changes apply from the session's next turn; history is translated for the new provider. */
export const patchSessionBodySchema = z
  .object({
    title: z.string().trim().min(1).max(200).optional(),
    model: modelRefSchema.optional(),
  })
  .strict()
  .refine((b) => b.title !== undefined || b.model !== undefined, {
    message: 'give a title or a model to change',
  });
export type PatchSessionBody = z.infer<typeof patchSessionBodySchema>;

export const postMessageBodySchema = z
  .object({
    text: z.string().min(1).max(200_000),
    /** Client-chosen id; a retried POST with the same id returns the first turn, never a second. */
    clientMessageId: z.string().min(1).max(100).optional(),
    /**
     * `queue` (default): a follow-up, answered after the turns before it. `steer`: delivered to
     * the running turn at its next step boundary; when no turn runs it is queued like any input.
     */
    mode: z.enum(['queue', 'steer']).default('queue'),
  })
  .strict();
export type PostMessageBody = z.infer<typeof postMessageBodySchema>;

export const sessionStatusSchema = z.enum(['idle', 'queued', 'running']);

export const sessionSummarySchema = z.object({
  id: sessionIdSchema,
  title: z.string(),
  model: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  status: sessionStatusSchema,
  lastSeq: z.number().int().nonnegative(),
  inputs: z.number().int().nonnegative(),
});
export type SessionSummary = z.infer<typeof sessionSummarySchema>;

export const pendingInputSchema = z.object({
  inputSeq: z.number().int().positive(),
  turnId: z.string(),
  text: z.string(),
  at: z.number(),
});
export type PendingInput = z.infer<typeof pendingInputSchema>;

export const sessionDetailSchema = z.object({
  session: sessionSummarySchema,
  entries: z.array(logEntrySchema),
  pending: z.array(pendingInputSchema),
  /** Subscribe with `after: lastEventId` to receive exactly what follows this transcript. */
  lastEventId: z.string(),
});
export type SessionDetail = z.infer<typeof sessionDetailSchema>;

export const listSessionsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** Opaque cursor from a previous page's `nextCursor`. */
    cursor: z.string().regex(/^\d+$/).optional(),
  })
  .strict();

export const listSessionsResponseSchema = z.object({
  sessions: z.array(sessionSummarySchema),
  nextCursor: z.string().nullable(),
});

export const postMessageResponseSchema = z.object({
  turnId: z.string(),
  inputSeq: z.number().int().positive(),
  duplicate: z.boolean(),
  /** True when the message went to the running turn `turnId` rather than a turn of its own. */
  steered: z.boolean(),
});
export type PostMessageResponse = z.infer<typeof postMessageResponseSchema>;

/** Every 4xx/5xx body. `code` is stable and machine-readable. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
