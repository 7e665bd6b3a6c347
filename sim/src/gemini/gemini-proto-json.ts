import type { FieldViolation } from './gemini-errors.ts';

/**
 * A small model of how Google's front end parses a JSON body into its protobuf request: field names
 * in lowerCamel or snake_case, unknown names and mistyped values refused with the exact
 * "Invalid JSON payload received" / "Invalid value at" wording, `null` meaning absent, int64 and
 * numbers accepted as strings, bytes as base64. The sim needs it because that strictness is what
 * catches an adapter sending `additionalProperties` or a string where a Struct belongs.
 */
export type Scalar =
  | 'TYPE_STRING'
  | 'TYPE_BOOL'
  | 'TYPE_INT32'
  | 'TYPE_INT64'
  | 'TYPE_FLOAT'
  | 'TYPE_DOUBLE'
  | 'TYPE_BYTES';

export type Shape =
  /** `fields` is a thunk so recursive messages (Schema) can refer to themselves. */
  | { kind: 'message'; name: string; fields: () => Record<string, Shape> }
  | { kind: 'repeated'; of: Shape }
  | { kind: 'map'; of: Shape }
  | { kind: 'scalar'; type: Scalar }
  | { kind: 'enum'; name: string; values: readonly string[] }
  /** `google.protobuf.Struct`: any JSON object. */
  | { kind: 'struct' }
  /** `google.protobuf.Value`, or a sub-message the sim does not look into. */
  | { kind: 'value' };

export type Json = Record<string, unknown>;

const PACKAGE = 'type.googleapis.com/';

export function decodeProtoJson(
  value: unknown,
  shape: Shape,
): { value: unknown; violations: FieldViolation[] } {
  const violations: FieldViolation[] = [];
  return { value: decode(value, shape, '', violations), violations };
}

function decode(value: unknown, shape: Shape, path: string, out: FieldViolation[]): unknown {
  switch (shape.kind) {
    case 'message':
      return decodeMessage(value, shape, path, out);
    case 'repeated':
      // A single value where a list belongs is read as a list of one.
      if (!Array.isArray(value)) return [decode(value, shape.of, path, out)];
      return value.map((item, i) => decode(item, shape.of, `${path}[${i}]`, out));
    case 'map': {
      if (!isJson(value)) return invalid(out, path, typeName(shape.of), value);
      const result: Json = {};
      Object.entries(value).forEach(([key, item], i) => {
        result[key] = decode(item, shape.of, `${path}[${i}].value`, out);
      });
      return result;
    }
    case 'scalar':
      return decodeScalar(value, shape.type, path, out);
    case 'enum': {
      const name = typeof value === 'string' ? value.toUpperCase() : undefined;
      if (name !== undefined && shape.values.includes(name)) return name;
      if (typeof value === 'number' && shape.values[value] !== undefined)
        return shape.values[value];
      return invalid(out, path, typeName(shape), value);
    }
    case 'struct':
      return isJson(value) ? value : invalid(out, path, `${PACKAGE}google.protobuf.Struct`, value);
    case 'value':
      return value;
  }
}

function decodeMessage(
  value: unknown,
  shape: Extract<Shape, { kind: 'message' }>,
  path: string,
  out: FieldViolation[],
): Json | undefined {
  if (!isJson(value)) return invalid(out, path, typeName(shape), value);
  const fields = shape.fields();
  const result: Json = {};
  for (const [key, item] of Object.entries(value)) {
    const name = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (!field) {
      const at = path === '' ? '' : ` at '${path}'`;
      out.push({
        field: path,
        description: `Invalid JSON payload received. Unknown name ${JSON.stringify(key)}${at}: Cannot find field.`,
      });
      continue;
    }
    if (item === null) continue;
    result[name] = decode(item, field, joinPath(path, snakeCase(name)), out);
  }
  return result;
}

function decodeScalar(value: unknown, type: Scalar, path: string, out: FieldViolation[]): unknown {
  switch (type) {
    case 'TYPE_STRING':
      return typeof value === 'string' ? value : invalid(out, path, type, value);
    case 'TYPE_BOOL':
      return typeof value === 'boolean' ? value : invalid(out, path, type, value);
    case 'TYPE_INT32':
    case 'TYPE_INT64': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      return typeof n === 'number' && Number.isInteger(n) ? n : invalid(out, path, type, value);
    }
    case 'TYPE_FLOAT':
    case 'TYPE_DOUBLE': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && !Number.isNaN(n) ? n : invalid(out, path, type, value);
    }
    case 'TYPE_BYTES':
      if (typeof value === 'string' && isBase64(value)) return value;
      out.push({
        field: path,
        description: `Invalid value at '${path}' (TYPE_BYTES), Base64 decoding failed for ${JSON.stringify(String(value))}`,
      });
      return undefined;
  }
}

/** Standard or URL-safe alphabet, padding optional: what Google's JSON parser accepts for bytes. */
export function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/_-]*={0,2}$/.test(text) && text.replace(/=+$/, '').length % 4 !== 1;
}

function typeName(shape: Shape): string {
  if (shape.kind === 'message' || shape.kind === 'enum') return `${PACKAGE}${shape.name}`;
  if (shape.kind === 'scalar') return shape.type;
  if (shape.kind === 'repeated' || shape.kind === 'map') return typeName(shape.of);
  return `${PACKAGE}google.protobuf.Value`;
}

function invalid(out: FieldViolation[], path: string, type: string, value: unknown): undefined {
  out.push({ field: path, description: `Invalid value at '${path}' (${type}), ${show(value)}` });
  return undefined;
}

function show(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : (JSON.stringify(value) ?? 'undefined');
}

export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function joinPath(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
