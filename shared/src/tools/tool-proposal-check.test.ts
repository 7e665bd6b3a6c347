import { describe, expect, it } from 'vitest';
import { checkToolProposal } from './tool-proposal-check.ts';
import { canonicalJson, toolProposalIdFor } from './tool-proposal-id.ts';
import { TOOL_CODE_MAX_BYTES } from './tool-proposal-schema.ts';

const reserved = new Set(['bash', 'read_file', 'propose_tool']);

const proposal = {
  name: 'word_count',
  description: 'Counts the words of a text',
  parameters: {
    type: 'object',
    properties: { text: { type: 'string' } },
    required: ['text'],
  },
  runtime: 'python',
  code: 'import json, sys\nprint(len(json.load(sys.stdin)["text"].split()))\n',
  reason: 'Counting words by hand is error-prone',
};

const problemsOf = (changes: Record<string, unknown>) => {
  const check = checkToolProposal({ ...proposal, ...changes }, reserved);
  return check.ok ? [] : check.problems;
};

describe('checkToolProposal', () => {
  it('accepts a well-formed proposal', () => {
    expect(checkToolProposal(proposal, reserved)).toEqual({ ok: true, proposal });
  });

  it('refuses malformed names and the names of built-in tools', () => {
    expect(problemsOf({ name: 'Word' })[0]).toMatch(/^name: a tool name is/);
    expect(problemsOf({ name: 'x' })[0]).toMatch(/^name: /);
    expect(problemsOf({ name: `a${'b'.repeat(41)}` })[0]).toMatch(/^name: /);
    expect(problemsOf({ name: 'run-it' })[0]).toMatch(/^name: /);
    expect(problemsOf({ name: 'bash' })).toEqual([
      'name: bash is a built-in tool; choose another name',
    ]);
  });

  it('refuses parameters that are not a JSON Schema of an object', () => {
    expect(problemsOf({ parameters: { type: 'string' } })).toEqual([
      'parameters: must be a JSON Schema with "type": "object"',
    ]);
    expect(
      problemsOf({ parameters: { type: 'object', properties: { a: { type: 'text' } } } }),
    ).toMatchInlineSnapshot(`
        [
          "parameters: not a valid JSON Schema: /properties/a/type must be equal to one of the allowed values, /properties/a/type must be array, /properties/a/type must match a schema in anyOf",
        ]
      `);
    expect(problemsOf({ parameters: { type: 'object', required: 'text' } })[0]).toMatch(
      /^parameters: not a valid JSON Schema: \/required must be array/,
    );
    expect(
      problemsOf({ parameters: { type: 'object', properties: { a: { $ref: '#/$defs/nope' } } } }),
    ).toEqual([expect.stringMatching(/^parameters: not a usable JSON Schema: can't resolve/)]);
    expect(problemsOf({ parameters: [] })[0]).toMatch(/^parameters: /);
  });

  it('reads draft 2020-12, as zod emits it and the argument validator reads it', () => {
    const parameters = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] },
      },
    };
    expect(problemsOf({ parameters })).toEqual([]);
    expect(problemsOf({ parameters: { ...parameters, $schema: 'http://example.com/x' } })).toEqual(
      [],
    );
  });

  it('refuses $id, which would collide in the validator shared by all tools', () => {
    const nested = { type: 'object', properties: { a: { $id: 'x', type: 'string' } } };
    expect(problemsOf({ parameters: nested })).toEqual([
      'parameters: $id is not supported in a tool schema',
    ]);
  });

  it('caps the code size and refuses NUL, which cannot travel in an environment string', () => {
    expect(problemsOf({ code: 'x'.repeat(TOOL_CODE_MAX_BYTES + 1) })).toEqual([
      `code: ${TOOL_CODE_MAX_BYTES + 1} bytes, at most ${TOOL_CODE_MAX_BYTES}`,
    ]);
    expect(problemsOf({ code: 'echo a\0b' })).toEqual(['code: must not contain NUL characters']);
  });

  it('refuses unknown runtimes, empty code, a missing reason and extra fields', () => {
    expect(problemsOf({ runtime: 'ruby' })[0]).toMatch(/^runtime: /);
    expect(problemsOf({ code: '' })[0]).toMatch(/^code: /);
    expect(problemsOf({ reason: undefined })[0]).toMatch(/^reason: /);
    expect(problemsOf({ extra: 1 })[0]).toMatch(/^\(proposal\): Unrecognized key/);
  });
});

describe('toolProposalIdFor', () => {
  const { reason: _reason, ...definition } = proposal as typeof proposal & { runtime: 'python' };

  it('is a content hash: the same definition in any key order gives the same id', () => {
    const reordered = {
      code: definition.code,
      runtime: definition.runtime,
      parameters: { required: ['text'], properties: { text: { type: 'string' } }, type: 'object' },
      description: definition.description,
      name: definition.name,
    };
    expect(toolProposalIdFor(definition)).toMatch(/^tp_[0-9a-f]{32}$/);
    expect(toolProposalIdFor(reordered)).toBe(toolProposalIdFor(definition));
  });

  it('changes with anything the sandbox runs or the model sees', () => {
    const id = toolProposalIdFor(definition);
    expect(toolProposalIdFor({ ...definition, code: `${definition.code} ` })).not.toBe(id);
    expect(toolProposalIdFor({ ...definition, runtime: 'bash' })).not.toBe(id);
    expect(toolProposalIdFor({ ...definition, description: 'Counts' })).not.toBe(id);
    expect(toolProposalIdFor({ ...definition, parameters: { type: 'object' } })).not.toBe(id);
  });

  it('keeps arrays in order', () => {
    expect(canonicalJson({ b: [2, 1], a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":[2,1]}');
  });
});
