import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { JsonSchema, ToolArgsResult, ToolSpec } from './llm-types.ts';

/**
 * Validates a closed tool call's arguments against the tool's JSON Schema. Validators are compiled
 * once per schema object and cached, since the same tool specs are sent on every step.
 */
export class ToolSchemaValidator {
  // Draft 2020-12 is what zod emits; it also reads the draft-07 keywords tool authors use.
  readonly #ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false });
  readonly #compiled = new WeakMap<JsonSchema, ValidateFunction | Error>();

  check(
    tools: readonly ToolSpec[] | undefined,
    name: string,
    args: Record<string, unknown>,
  ): ToolArgsResult {
    const tool = tools?.find((t) => t.name === name);
    if (!tool) return { ok: true, args };
    let validate = this.#compiled.get(tool.parameters);
    if (!validate) {
      try {
        // `$schema` names a meta-schema URL; the validator's own dialect applies regardless.
        const { $schema: _dialect, ...schema } = tool.parameters;
        validate = this.#ajv.compile(schema);
      } catch (error) {
        validate = error as Error;
      }
      this.#compiled.set(tool.parameters, validate);
    }
    // A schema the validator cannot compile is the tool author's bug; do not punish the model.
    if (validate instanceof Error) return { ok: true, args };
    if (validate(args)) return { ok: true, args };
    const problems = (validate.errors ?? [])
      .map((e) => `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}`)
      .join('; ');
    return { ok: false, message: `arguments do not match the ${name} schema: ${problems}` };
  }
}
