import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ToolSchemaValidator } from './tool-schema-validator.ts';

describe('ToolSchemaValidator', () => {
  const tool = (parameters: Record<string, unknown>) => [
    { name: 't', description: '', parameters },
  ];

  it('validates against schemas zod emits (draft 2020-12, with $schema)', () => {
    const schema = z.toJSONSchema(z.object({ path: z.string(), n: z.number().int().optional() }));
    expect(schema.$schema).toContain('2020-12');
    const v = new ToolSchemaValidator();
    expect(v.check(tool(schema), 't', { path: 'a' })).toEqual({ ok: true, args: { path: 'a' } });
    const bad = v.check(tool(schema), 't', { path: 42 });
    expect(bad).toMatchObject({
      ok: false,
      message: expect.stringContaining('/path must be string'),
    });
  });

  it('validates draft-07 style schemas too', () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { k: { enum: ['a', 'b'] } },
      required: ['k'],
    };
    const v = new ToolSchemaValidator();
    expect(v.check(tool(schema), 't', { k: 'c' }).ok).toBe(false);
    expect(v.check(tool(schema), 't', { k: 'a' }).ok).toBe(true);
  });

  it('lets calls of unknown tools through for the loop to answer', () => {
    expect(new ToolSchemaValidator().check([], 'nope', { x: 1 })).toEqual({
      ok: true,
      args: { x: 1 },
    });
  });
});
