import { z } from 'zod';
import type { AgentTool, ToolConcurrency, ToolContext, ToolResult } from '../agent/agent-types.ts';

export type ToolDefinition<S extends z.ZodType> = {
  name: string;
  description: string;
  schema: S;
  idempotent: boolean;
  concurrency?: ToolConcurrency;
  timeoutMs?: number;
  outputCapBytes?: number;
  execute(args: z.output<S>, context: ToolContext): Promise<ToolResult>;
};

/**
 * A typed tool: its JSON Schema for the model comes from the zod schema, and its arguments are
 * parsed by the same schema before `execute` sees them.
 */
export function defineTool<S extends z.ZodType>(definition: ToolDefinition<S>): AgentTool {
  const { schema, execute, name, description, ...flags } = definition;
  return {
    spec: {
      name,
      description,
      parameters: z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>,
    },
    ...flags,
    async execute(rawArgs, context) {
      const parsed = schema.safeParse(rawArgs);
      if (!parsed.success) {
        const problems = parsed.error.issues
          .map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`)
          .join('; ');
        return { ok: false, output: `Invalid arguments for ${name}: ${problems}` };
      }
      return execute(parsed.data, context);
    },
  };
}
