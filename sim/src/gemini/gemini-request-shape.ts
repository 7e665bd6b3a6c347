import type { Scalar, Shape } from './gemini-proto-json.ts';

/**
 * The parts of `google.ai.generativelanguage.v1beta.GenerateContentRequest` the sim knows, field by
 * field, as the SDK's types and the API reference describe them. Sub-messages the sim never reads
 * (safety settings, media, server-side tools) are `value`: accepted as they come.
 */
const V1BETA = 'google.ai.generativelanguage.v1beta';
const scalar = (type: Scalar): Shape => ({ kind: 'scalar', type });
const repeated = (of: Shape): Shape => ({ kind: 'repeated', of });
const message = (name: string, fields: () => Record<string, Shape>): Shape => ({
  kind: 'message',
  name: `${V1BETA}.${name}`,
  fields,
});
const STRING = scalar('TYPE_STRING');
const BOOL = scalar('TYPE_BOOL');
const INT32 = scalar('TYPE_INT32');
const INT64 = scalar('TYPE_INT64');
const DOUBLE = scalar('TYPE_DOUBLE');
const FLOAT = scalar('TYPE_FLOAT');
const VALUE: Shape = { kind: 'value' };
const STRUCT: Shape = { kind: 'struct' };

export const SCHEMA_TYPES = [
  'TYPE_UNSPECIFIED',
  'STRING',
  'NUMBER',
  'INTEGER',
  'BOOLEAN',
  'ARRAY',
  'OBJECT',
  'NULL',
] as const;

/** `Schema`: the OpenAPI 3.0 subset. No `$ref`, `$defs`, `additionalProperties`, `const`, `oneOf`. */
export const schemaShape: Shape = message('Schema', () => ({
  type: { kind: 'enum', name: `${V1BETA}.Type`, values: SCHEMA_TYPES },
  format: STRING,
  title: STRING,
  description: STRING,
  nullable: BOOL,
  enum: repeated(STRING),
  maxItems: INT64,
  minItems: INT64,
  properties: { kind: 'map', of: schemaShape },
  required: repeated(STRING),
  minProperties: INT64,
  maxProperties: INT64,
  minLength: INT64,
  maxLength: INT64,
  pattern: STRING,
  example: VALUE,
  anyOf: repeated(schemaShape),
  propertyOrdering: repeated(STRING),
  default: VALUE,
  items: schemaShape,
  minimum: DOUBLE,
  maximum: DOUBLE,
}));

const functionCall = message('FunctionCall', () => ({ id: STRING, name: STRING, args: STRUCT }));

const functionResponse = message('FunctionResponse', () => ({
  id: STRING,
  name: STRING,
  response: STRUCT,
  willContinue: BOOL,
  scheduling: VALUE,
  parts: repeated(VALUE),
}));

/** The fields of the `data` oneof: a part sets exactly one. */
export const PART_DATA_FIELDS = [
  'text',
  'inlineData',
  'functionCall',
  'functionResponse',
  'fileData',
  'executableCode',
  'codeExecutionResult',
  'toolCall',
  'toolResponse',
] as const;

const part = message('Part', () => ({
  text: STRING,
  inlineData: VALUE,
  functionCall,
  functionResponse,
  fileData: VALUE,
  executableCode: VALUE,
  codeExecutionResult: VALUE,
  toolCall: VALUE,
  toolResponse: VALUE,
  thought: BOOL,
  thoughtSignature: scalar('TYPE_BYTES'),
  videoMetadata: VALUE,
  partMetadata: STRUCT,
  mediaResolution: VALUE,
}));

const content = message('Content', () => ({ role: STRING, parts: repeated(part) }));

const functionDeclaration = message('FunctionDeclaration', () => ({
  name: STRING,
  description: STRING,
  behavior: VALUE,
  parameters: schemaShape,
  parametersJsonSchema: VALUE,
  response: schemaShape,
  responseJsonSchema: VALUE,
}));

const tool = message('Tool', () => ({
  functionDeclarations: repeated(functionDeclaration),
  googleSearchRetrieval: VALUE,
  codeExecution: VALUE,
  googleSearch: VALUE,
  urlContext: VALUE,
  fileSearch: VALUE,
  computerUse: VALUE,
  googleMaps: VALUE,
  mcpServers: VALUE,
}));

export const CALLING_MODES = ['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'] as const;

const toolConfig = message('ToolConfig', () => ({
  functionCallingConfig: message('FunctionCallingConfig', () => ({
    mode: { kind: 'enum', name: `${V1BETA}.FunctionCallingConfig.Mode`, values: CALLING_MODES },
    allowedFunctionNames: repeated(STRING),
  })),
  retrievalConfig: VALUE,
  includeServerSideToolInvocations: BOOL,
}));

const thinkingConfig = message('ThinkingConfig', () => ({
  includeThoughts: BOOL,
  thinkingBudget: INT32,
  thinkingLevel: {
    kind: 'enum',
    name: `${V1BETA}.ThinkingConfig.ThinkingLevel`,
    values: ['THINKING_LEVEL_UNSPECIFIED', 'LOW', 'MEDIUM', 'HIGH', 'MINIMAL'],
  },
}));

const generationConfig = message('GenerationConfig', () => ({
  candidateCount: INT32,
  stopSequences: repeated(STRING),
  maxOutputTokens: INT32,
  temperature: FLOAT,
  topP: FLOAT,
  topK: INT32,
  seed: INT32,
  presencePenalty: FLOAT,
  frequencyPenalty: FLOAT,
  responseLogprobs: BOOL,
  logprobs: INT32,
  responseMimeType: STRING,
  responseSchema: schemaShape,
  responseJsonSchema: VALUE,
  responseModalities: VALUE,
  speechConfig: VALUE,
  thinkingConfig,
  mediaResolution: VALUE,
  imageConfig: VALUE,
  enableEnhancedCivicAnswers: BOOL,
}));

export const generateContentRequestShape: Shape = message('GenerateContentRequest', () => ({
  model: STRING,
  contents: repeated(content),
  systemInstruction: content,
  tools: repeated(tool),
  toolConfig,
  safetySettings: VALUE,
  generationConfig,
  cachedContent: STRING,
  serviceTier: VALUE,
  store: BOOL,
  labels: VALUE,
  continuationToken: VALUE,
}));
