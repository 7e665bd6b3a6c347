import { z } from 'zod';
import { logEntrySchema } from '../session/log-entry.ts';
import { approvalPolicySchema } from './approval-policy.ts';
import { webhookHooksSchema } from './hook-config.ts';

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

/**
 * What a message sent while the session is busy (a turn running or queued) does: `enqueue`
 * answers it after the turns before it; `interrupt` cancels the running turn first; `reject`
 * refuses it (409 `session_busy`); `steer` hands it to the running turn at its next step boundary.
 */
export const doubleTextingSchema = z.enum(['enqueue', 'interrupt', 'reject', 'steer']);
export type DoubleTexting = z.infer<typeof doubleTextingSchema>;

export const createSessionBodySchema = z
  .object({
    title: z.string().trim().min(1).max(200).optional(),
    model: modelRefSchema.optional(),
    systemPrompt: z.string().max(20_000).optional(),
    /** The session's double-texting policy; `enqueue` when omitted. */
    doubleTexting: doubleTextingSchema.optional(),
    sim: simControlsSchema.optional(),
    /** Which tool calls need a human's approval (on top of the deployment's policy). */
    approvals: approvalPolicySchema.optional(),
    /** Webhook hooks of this session, added after the deployment's (URLs must be allowed). */
    hooks: webhookHooksSchema.max(10).optional(),
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
    doubleTexting: doubleTextingSchema.optional(),
  })
  .strict()
  .refine((b) => b.title !== undefined || b.model !== undefined || b.doubleTexting !== undefined, {
    message: 'give a title, a model or a doubleTexting policy to change',
  });
export type PatchSessionBody = z.infer<typeof patchSessionBodySchema>;

export const postMessageBodySchema = z
  .object({
    text: z.string().min(1).max(200_000),
    /** Client-chosen id; a retried POST with the same id returns the first turn, never a second. */
    clientMessageId: z.string().min(1).max(100).optional(),
    /**
     * What to do if the session is busy (see `doubleTextingSchema`); the session's policy when
     * omitted. `queue` is `enqueue`. Steering when no turn runs queues the message like any input.
     */
    mode: z.enum(['queue', ...doubleTextingSchema.options]).optional(),
    /** Batch turns run after every queued interactive turn (fairly between users). */
    priority: z.enum(['interactive', 'batch']).default('interactive'),
  })
  .strict();
export type PostMessageBody = z.infer<typeof postMessageBodySchema>;
/** What a client sends: defaulted fields may be left out. */
export type PostMessageInput = z.input<typeof postMessageBodySchema>;

export const sessionStatusSchema = z.enum(['idle', 'queued', 'running', 'awaiting_approval']);

export const sessionSummarySchema = z.object({
  id: sessionIdSchema,
  title: z.string(),
  model: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  status: sessionStatusSchema,
  lastSeq: z.number().int().nonnegative(),
  inputs: z.number().int().nonnegative(),
  doubleTexting: doubleTextingSchema,
  /** The owner's user id (absent on sessions from before users existed). */
  owner: z.string().optional(),
  /** Set on forks: the source session and the last of its entries the fork started from. */
  forkedFrom: z.object({ sessionId: z.string(), seq: z.number().int().nonnegative() }).optional(),
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
    /** Admins: every user's sessions. */
    all: z.enum(['true', 'false']).optional(),
    /** Admins: the sessions of the user with this name. */
    owner: z.string().min(1).max(40).optional(),
  })
  .strict();

export const listSessionsResponseSchema = z.object({
  sessions: z.array(sessionSummarySchema),
  nextCursor: z.string().nullable(),
});

/** A human's answer to a tool call that waits for approval. */
export const approvalDecisionBodySchema = z
  .object({
    approve: z.boolean(),
    /** Replaces the model's arguments (checked against the tool's schema before it runs). */
    args: z.record(z.string(), z.unknown()).optional(),
    reason: z.string().max(2_000).optional(),
  })
  .strict();
export type ApprovalDecisionBody = z.infer<typeof approvalDecisionBodySchema>;

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

/** A path inside a session's workspace (relative, no `..`), as accepted on create and import. */
export const workspacePathSchema = workspacePath;

/** `POST /v1/sessions/:id/fork`: a new session whose log is the source's entries `1..atSeq`. */
export const forkSessionBodySchema = z
  .object({
    /** The last entry the fork keeps; the source's last seq when omitted, 0 for an empty log. */
    atSeq: z.number().int().nonnegative().optional(),
    /** The fork's title; the source's when omitted. */
    title: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
export type ForkSessionBody = z.infer<typeof forkSessionBodySchema>;

/** `DELETE /v1/sessions/:id?force=true` deletes even while a turn runs (the turn is cancelled). */
export const deleteSessionQuerySchema = z
  .object({ force: z.enum(['true', 'false']).default('false') })
  .strict();

/** `201` answer of fork and import. */
export const sessionCreatedResponseSchema = z.object({ session: sessionSummarySchema });
export type SessionCreatedResponse = z.infer<typeof sessionCreatedResponseSchema>;
