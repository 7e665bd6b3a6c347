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
 * JSON Schemas by zod schema: tools are built for every turn (they close over its workspace), and
 * converting a schema costs milliseconds, while the schemas themselves are made once per module.
 */
const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let json = jsonSchemas.get(schema);
  if (!json) {
    json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
    jsonSchemas.set(schema, json);
  }
  return json;
}

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
      parameters: jsonSchemaOf(schema),
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
