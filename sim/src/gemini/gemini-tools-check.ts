import type { DecodedRequest, DecodedSchema } from './gemini-decoded.ts';
import { fieldProblem } from './gemini-errors.ts';

/**
 * The rules the API applies to function declarations after parsing, with its messages: a name it
 * accepts, an OBJECT with properties, an ARRAY with items, `required` naming declared properties,
 * `enum` on strings only. Returns the first broken rule's message.
 */
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

export function checkTools(request: DecodedRequest): string | undefined {
  const seen = new Set<string>();
  for (const [t, tool] of (request.tools ?? []).entries()) {
    for (const [f, declaration] of (tool.functionDeclarations ?? []).entries()) {
      const at = `tools[${t}].function_declarations[${f}]`;
      const name = declaration.name ?? '';
      if (!FUNCTION_NAME.test(name)) {
        return fieldProblem(
          `${at}.name`,
          'Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or dashes (-), with a maximum length of 128.',
        );
      }
      if (seen.has(name))
        return fieldProblem(`${at}.name`, `Duplicate function declaration: ${name}.`);
      seen.add(name);
      const problem =
        declaration.parameters && checkSchema(declaration.parameters, `${at}.parameters`);
      if (problem) return problem;
    }
  }
  return undefined;
}

function checkSchema(schema: DecodedSchema, at: string): string | undefined {
  const properties = schema.properties ?? {};
  if (schema.type === 'OBJECT' && Object.keys(properties).length === 0) {
    return fieldProblem(`${at}.properties`, 'should be non-empty for OBJECT type');
  }
  if (schema.type === 'ARRAY' && !schema.items)
    return fieldProblem(`${at}.items`, 'missing field.');
  if (schema.enum && schema.type !== 'STRING' && schema.format !== 'enum') {
    return fieldProblem(`${at}.enum`, 'only allowed for STRING type');
  }
  for (const [i, name] of (schema.required ?? []).entries()) {
    if (!Object.hasOwn(properties, name)) {
      return fieldProblem(`${at}.required[${i}]`, 'property is not defined');
    }
  }
  for (const [name, property] of Object.entries(properties)) {
    const problem = checkSchema(property, `${at}.properties[${name}]`);
    if (problem) return problem;
  }
  if (schema.items) {
    const problem = checkSchema(schema.items, `${at}.items`);
    if (problem) return problem;
  }
  for (const [i, option] of (schema.anyOf ?? []).entries()) {
    const problem = checkSchema(option, `${at}.any_of[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}
