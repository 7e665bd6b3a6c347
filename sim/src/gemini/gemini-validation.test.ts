import type { Content, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimServer } from '../server.ts';
import { type GoogleErrorJson, startSim } from './gemini-test-kit.ts';

let sim: SimServer;
let ai: GoogleGenAI;
beforeAll(async () => {
  ({ sim, ai } = await startSim());
});
afterAll(() => sim.close());

describe('request validation', () => {
  const post = (body: unknown) =>
    fetch(`${sim.url}/v1beta/models/tern-sim:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const user = (text: string): Content => ({ role: 'user', parts: [{ text }] });

  it('refuses JSON Schema keywords outside the OpenAPI subset, naming each field', async () => {
    const response = await post({
      contents: [user('hi')],
      tools: [
        {
          functionDeclarations: [
            {
              name: 'read_file',
              parameters: {
                type: 'object',
                properties: { path: { $ref: '#/$defs/Path' } },
                $defs: { Path: { type: 'string' } },
              },
            },
          ],
        },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    const { error } = (await response.json()) as GoogleErrorJson;
    expect(error.status).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe(
      `Invalid JSON payload received. Unknown name "$ref" at 'tools[0].function_declarations[0].parameters.properties[0].value': Cannot find field.\nInvalid JSON payload received. Unknown name "$defs" at 'tools[0].function_declarations[0].parameters': Cannot find field.`,
    );
    expect(error.details?.[0]?.['@type']).toBe('type.googleapis.com/google.rpc.BadRequest');
  });

  it.each([
    [
      'an OBJECT without properties',
      {
        contents: [user('hi')],
        tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT' } }] }],
      },
      '* GenerateContentRequest.tools[0].function_declarations[0].parameters.properties: should be non-empty for OBJECT type\n',
    ],
    [
      'a role other than user and model',
      { contents: [{ role: 'assistant', parts: [{ text: 'hi' }] }] },
      'Please use a valid role: user, model.',
    ],
    [
      'empty contents',
      { contents: [] },
      '* GenerateContentRequest.contents: contents is not specified\n',
    ],
    [
      'a function response that is not an object',
      {
        contents: [
          user('read a.md'),
          { role: 'model', parts: [{ functionCall: { name: 'read_file', args: {} } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'read_file', response: 'text' } }] },
        ],
      },
      `Invalid value at 'contents[2].parts[0].function_response.response' (type.googleapis.com/google.protobuf.Struct), "text"`,
    ],
    [
      'fewer responses than calls',
      {
        contents: [
          user('list files and read a.md'),
          {
            role: 'model',
            parts: [
              { functionCall: { name: 'list_files', args: {} } },
              { functionCall: { name: 'read_file', args: {} } },
            ],
          },
          { role: 'user', parts: [{ functionResponse: { name: 'list_files', response: {} } }] },
        ],
      },
      'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
    ],
    [
      'a string enum value on a number',
      {
        contents: [user('hi')],
        tools: [
          {
            functionDeclarations: [
              {
                name: 'f',
                parameters: { type: 'OBJECT', properties: { n: { type: 'INTEGER', enum: [1] } } },
              },
            ],
          },
        ],
      },
      `Invalid value at 'tools[0].function_declarations[0].parameters.properties[0].value.enum[0]' (TYPE_STRING), 1`,
    ],
  ])('refuses %s with the API message', async (_, body, message) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as GoogleErrorJson;
    expect(error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message });
  });

  it('accepts snake_case field names and lower-case schema types, as the API does', async () => {
    const response = await post({
      contents: [user('read a.md')],
      tools: [
        {
          function_declarations: [
            {
              name: 'read_file',
              parameters: { type: 'object', properties: { path: { type: 'string' } } },
            },
          ],
        },
      ],
      generation_config: { max_output_tokens: '50' },
    });
    expect(response.status).toBe(200);
  });

  it('lists the models in Google shape', async () => {
    const response = await fetch(`${sim.url}/v1beta/models`);
    const body = (await response.json()) as { models: { name: string }[] };
    expect(body.models.map((m) => m.name)).toEqual(['models/tern-sim', 'models/tern-sim-fast']);
    const pager = ai.models.list();
    const names: string[] = [];
    for await (const model of await pager) names.push(model.name ?? '');
    expect(names).toEqual(['models/tern-sim', 'models/tern-sim-fast']);
  });
});
