import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  TOOL_CODE_MAX_BYTES,
  TOOL_PARAMETERS_MAX_BYTES,
  type ToolProposalInput,
  toolProposalInputSchema,
} from './tool-proposal-schema.ts';

export type ToolProposalCheck =
  | { ok: true; proposal: ToolProposalInput }
  | { ok: false; problems: string[] };

/**
 * Everything that makes a proposal unusable, worded for the model that wrote it: a name that is
 * malformed or taken by a built-in tool, a parameters schema that is not a JSON Schema of an
 * object, code too large or holding NUL (it travels as an environment string).
 */
export function checkToolProposal(
  raw: unknown,
  reservedNames: ReadonlySet<string>,
): ToolProposalCheck {
  const parsed = toolProposalInputSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map(
        (i) => `${i.path.length ? i.path.join('.') : '(proposal)'}: ${i.message}`,
      ),
    };
  }
  const proposal = parsed.data;
  const problems: string[] = [];
  if (reservedNames.has(proposal.name)) {
    problems.push(`name: ${proposal.name} is a built-in tool; choose another name`);
  }
  const codeBytes = Buffer.byteLength(proposal.code);
  if (codeBytes > TOOL_CODE_MAX_BYTES) {
    problems.push(`code: ${codeBytes} bytes, at most ${TOOL_CODE_MAX_BYTES}`);
  }
  if (proposal.code.includes('\0')) problems.push('code: must not contain NUL characters');
  problems.push(...parametersProblems(proposal.parameters));
  return problems.length === 0 ? { ok: true, proposal } : { ok: false, problems };
}

function parametersProblems(parameters: Record<string, unknown>): string[] {
  const size = Buffer.byteLength(JSON.stringify(parameters));
  if (size > TOOL_PARAMETERS_MAX_BYTES) {
    return [`parameters: ${size} bytes of JSON, at most ${TOOL_PARAMETERS_MAX_BYTES}`];
  }
  // Every wire API takes a tool's arguments as one JSON object.
  if (parameters.type !== 'object')
    return ['parameters: must be a JSON Schema with "type": "object"'];
  // The LLM layer's validator shares one Ajv across tools, where a second schema with the same
  // $id fails to compile and its calls go unchecked.
  if (hasKey(parameters, '$id')) return ['parameters: $id is not supported in a tool schema'];
  // A fresh instance per check: Ajv keeps every schema it compiled, which a long-running worker
  // must not accumulate; proposals are rare. Dialect and options are those of the LLM layer's
  // argument validator, which will judge the model's calls, and which ignores `$schema` too.
  const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false });
  const { $schema: _dialect, ...schema } = parameters;
  if (!ajv.validateSchema(schema)) {
    return [`parameters: not a valid JSON Schema: ${ajv.errorsText(ajv.errors, { dataVar: '' })}`];
  }
  try {
    // Catches what the meta-schema cannot, such as a $ref to nothing or to a remote document.
    ajv.compile(schema);
  } catch (error) {
    return [`parameters: not a usable JSON Schema: ${(error as Error).message}`];
  }
  return [];
}

function hasKey(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasKey(v, key));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => k === key || hasKey(v, key));
}
