import { Type } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JsonSchema } from '../llm-types.ts';
import { toGeminiSchema } from './gemini-schema.ts';

const Path = z.string().describe('A workspace path');

describe('toGeminiSchema', () => {
  it('translates a zod schema: $refs inlined, nullable unions folded, const and records handled', () => {
    const schema = z.toJSONSchema(
      z.object({
        from: Path,
        to: Path,
        mode: z.enum(['read', 'write']),
        kind: z.literal('file'),
        encoding: z.union([z.literal('utf8'), z.literal('base64')]).optional(),
        limit: z.number().int().min(1).max(100).nullable(),
        tags: z.array(z.string()).max(5),
        options: z.object({ recursive: z.boolean() }).strict().nullable(),
        meta: z.record(z.string(), z.string()),
      }),
      { reused: 'ref' },
    ) as JsonSchema;
    expect(schema.$defs).toBeDefined();

    expect(toGeminiSchema(schema)).toEqual({
      type: Type.OBJECT,
      properties: {
        from: { type: Type.STRING, description: 'A workspace path' },
        to: { type: Type.STRING, description: 'A workspace path' },
        mode: { type: Type.STRING, enum: ['read', 'write'] },
        kind: { type: Type.STRING, enum: ['file'] },
        encoding: { type: Type.STRING, enum: ['utf8', 'base64'] },
        limit: { type: Type.INTEGER, minimum: 1, maximum: 100, nullable: true },
        tags: { type: Type.ARRAY, items: { type: Type.STRING }, maxItems: '5' },
        options: {
          type: Type.OBJECT,
          properties: { recursive: { type: Type.BOOLEAN } },
          required: ['recursive'],
          nullable: true,
        },
        // A record: no listable properties, so no OBJECT type (the API refuses an empty one).
        meta: {},
      },
      required: ['from', 'to', 'mode', 'kind', 'limit', 'tags', 'options', 'meta'],
    });
  });

  it('never emits a keyword outside the OpenAPI subset', () => {
    const allowed = new Set([
      'type',
      'format',
      'title',
      'description',
      'nullable',
      'enum',
      'maxItems',
      'minItems',
      'properties',
      'required',
      'minProperties',
      'maxProperties',
      'minLength',
      'maxLength',
      'pattern',
      'example',
      'anyOf',
      'propertyOrdering',
      'default',
      'items',
      'minimum',
      'maximum',
    ]);
    const schema: JsonSchema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'urn:tool',
      type: 'object',
      additionalProperties: false,
      properties: {
        email: { type: 'string', format: 'email', minLength: 3, $comment: 'x' },
        when: { type: 'string', format: 'date-time' },
        ratio: { type: 'number', exclusiveMinimum: 0, multipleOf: 0.5 },
        count: { type: 'integer', exclusiveMaximum: 10 },
        pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] },
        either: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        loose: { type: ['string', 'number', 'null'] },
        flag: { const: true, description: 'Must be set.' },
        level: { enum: [1, 2, 3] },
        extra: { type: 'object', patternProperties: { '^x-': { type: 'string' } } },
        unique: { type: 'array', items: { type: 'string' }, uniqueItems: true },
      },
      required: ['email', 'ghost'],
    };
    const converted = toGeminiSchema(schema);
    const keys = new Set<string>();
    const walk = (node: unknown, inProperties = false) => {
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (!inProperties) keys.add(key);
        if (key === 'properties') walk(value, true);
        else if (key === 'items' || inProperties) walk(value);
        else if (key === 'anyOf') for (const item of value as unknown[]) walk(item);
      }
    };
    walk(converted);
    expect([...keys].filter((k) => !allowed.has(k))).toEqual([]);
    expect(converted?.required).toEqual(['email']);
    expect(converted?.properties).toMatchObject({
      email: { type: Type.STRING, minLength: '3' },
      when: { type: Type.STRING, format: 'date-time' },
      ratio: { type: Type.NUMBER, minimum: 0 },
      count: { type: Type.INTEGER, maximum: 9 },
      pair: { type: Type.ARRAY, items: { anyOf: [{ type: Type.STRING }, { type: Type.NUMBER }] } },
      either: { anyOf: [{ type: Type.STRING }, { type: Type.INTEGER }] },
      loose: { nullable: true, anyOf: [{ type: Type.STRING }, { type: Type.NUMBER }] },
      flag: { description: 'Must be set. One of: true.' },
      level: { type: Type.INTEGER, format: 'enum', enum: ['1', '2', '3'] },
      extra: {},
    });
    expect(converted?.properties?.email?.format).toBeUndefined();
    expect(converted?.properties?.either?.type).toBeUndefined();
  });

  it('inlines a recursive $ref once and leaves the recursion unconstrained', () => {
    type Tree = { name: string; children: Tree[] };
    const Tree: z.ZodType<Tree> = z.lazy(() =>
      z.object({ name: z.string(), children: z.array(Tree) }),
    );
    const schema = z.toJSONSchema(z.object({ root: Tree }), { reused: 'ref' }) as JsonSchema;
    expect(toGeminiSchema(schema)?.properties?.root).toEqual({
      type: Type.OBJECT,
      properties: { name: { type: Type.STRING }, children: { type: Type.ARRAY, items: {} } },
      required: ['name', 'children'],
    });
  });

  it('merges allOf and resolves #/definitions', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        both: {
          allOf: [
            { $ref: '#/definitions/Named' },
            { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] },
          ],
        },
      },
      definitions: {
        Named: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      },
    };
    expect(toGeminiSchema(schema)?.properties?.both).toEqual({
      type: Type.OBJECT,
      properties: { name: { type: Type.STRING }, age: { type: Type.INTEGER } },
      required: ['name', 'age'],
    });
  });

  it('declares no parameters for a tool without arguments', () => {
    expect(toGeminiSchema({ type: 'object', properties: {} })).toBeUndefined();
    expect(toGeminiSchema({ type: 'object', additionalProperties: false })).toBeUndefined();
    expect(toGeminiSchema({})).toBeUndefined();
  });
});
