import type { Json } from './gemini-proto-json.ts';

/**
 * A request body after `decodeProtoJson` accepted it: camelCase fields, enums upper-cased, numbers
 * parsed. Only the fields the sim reads are typed.
 */
export interface DecodedSchema {
  type?: string;
  format?: string;
  enum?: string[];
  properties?: Record<string, DecodedSchema>;
  required?: string[];
  items?: DecodedSchema;
  anyOf?: DecodedSchema[];
}

export interface DecodedFunctionCall {
  id?: string;
  name?: string;
  args?: Json;
}

export interface DecodedPart {
  text?: string;
  functionCall?: DecodedFunctionCall;
  functionResponse?: { id?: string; name?: string; response?: Json };
  thought?: boolean;
  thoughtSignature?: string;
  [field: string]: unknown;
}

export interface DecodedContent {
  role?: string;
  parts?: DecodedPart[];
}

export interface DecodedFunctionDeclaration {
  name?: string;
  description?: string;
  parameters?: DecodedSchema;
}

export interface DecodedRequest {
  contents?: DecodedContent[];
  systemInstruction?: DecodedContent;
  tools?: { functionDeclarations?: DecodedFunctionDeclaration[] }[];
  toolConfig?: { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } };
  generationConfig?: {
    maxOutputTokens?: number;
    stopSequences?: string[];
    thinkingConfig?: { includeThoughts?: boolean; thinkingBudget?: number; thinkingLevel?: string };
  };
}
