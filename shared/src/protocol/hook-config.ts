import { z } from 'zod';

/**
 * A hook configured as data: Tern POSTs the hook point's context as JSON to `url` and reads a
 * decision back (`{"action":"allow"|"deny"|"modify"|"add_context", …}`). Deployments list theirs
 * in TERN_HOOKS; a session may add its own when their URLs start with an allowed prefix.
 */
export const webhookHookSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    url: z.string().url(),
    points: z
      .array(z.enum(['before_model', 'after_model', 'before_tool', 'after_tool']))
      .min(1)
      .max(4),
    /** Only calls of these tools reach the hook (tool points); default all. */
    tools: z.array(z.string().min(1).max(100)).max(100).optional(),
    timeoutMs: z.number().int().min(1).max(60_000).default(1_000),
    onTimeout: z.enum(['skip', 'deny']).default('skip'),
  })
  .strict();
export type WebhookHook = z.infer<typeof webhookHookSchema>;

export const webhookHooksSchema = z.array(webhookHookSchema).max(50);
