import type { DecodedContent, DecodedPart, DecodedRequest } from './gemini-decoded.ts';
import { fieldProblem } from './gemini-errors.ts';
import { PART_DATA_FIELDS } from './gemini-request-shape.ts';
import { isSimSignature, isValidCallSignature } from './gemini-signatures.ts';

/**
 * The rules the API applies to `contents` after parsing, in its words: roles, non-empty parts with
 * exactly one kind of data, named calls and responses, function-response turns answering the call
 * turn right before them part for part, and thought signatures (present where thinking requires
 * them, and never altered). Returns the first broken rule's message.
 */
export function checkContents(request: DecodedRequest, thinking: boolean): string | undefined {
  const contents = request.contents ?? [];
  if (contents.length === 0) return fieldProblem('contents', 'contents is not specified');
  for (const [i, content] of contents.entries()) {
    const problem = checkContent(content, i) ?? checkTurnOrder(contents, i);
    if (problem) return problem;
  }
  return checkSignatures(contents, thinking);
}

function checkContent(content: DecodedContent, i: number): string | undefined {
  if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') {
    return 'Please use a valid role: user, model.';
  }
  const parts = content.parts ?? [];
  if (parts.length === 0)
    return fieldProblem(`contents[${i}].parts`, 'contents.parts must not be empty.');
  for (const [j, part] of parts.entries()) {
    const at = `contents[${i}].parts[${j}]`;
    const data = PART_DATA_FIELDS.filter((field) => part[field] !== undefined);
    if (data.length === 0) {
      return fieldProblem(
        `${at}.data`,
        "required oneof field 'data' must have one initialized field",
      );
    }
    if (data.length > 1) {
      return `Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${data[1]}'`;
    }
    if (part.functionCall && !part.functionCall.name) {
      return fieldProblem(`${at}.function_call.name`, 'Name cannot be empty.');
    }
    if (part.functionResponse && !part.functionResponse.name) {
      return fieldProblem(`${at}.function_response.name`, 'Name cannot be empty.');
    }
  }
  return undefined;
}

const calls = (content: DecodedContent | undefined) =>
  (content?.parts ?? []).filter((p) => p.functionCall !== undefined);
const responses = (content: DecodedContent | undefined) =>
  (content?.parts ?? []).filter((p) => p.functionResponse !== undefined);
const isModel = (content: DecodedContent | undefined) => content?.role === 'model';

function checkTurnOrder(contents: readonly DecodedContent[], i: number): string | undefined {
  const content = contents[i];
  const previous = contents[i - 1];
  if (
    isModel(content) &&
    calls(content).length > 0 &&
    (previous === undefined || isModel(previous))
  ) {
    return 'Please ensure that function call turn comes immediately after a user turn or after a function response turn.';
  }
  const answered = responses(content).length;
  if (!isModel(content) && answered > 0) {
    if (!isModel(previous) || calls(previous).length === 0) {
      return 'Please ensure that function response turn comes immediately after a function call turn.';
    }
    if (calls(previous).length !== answered) {
      return 'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.';
    }
  }
  return undefined;
}

/**
 * With thinking on, each model step of the current turn (since the last user text) must carry a
 * signature on its first function call, as Gemini 3 requires; any signature present must be one
 * the sim issued for that very part.
 */
function checkSignatures(
  contents: readonly DecodedContent[],
  thinking: boolean,
): string | undefined {
  const userText = (c: DecodedContent) =>
    !isModel(c) && (c.parts ?? []).some((p) => p.text !== undefined);
  let turnStart = 0;
  contents.forEach((c, i) => {
    if (userText(c)) turnStart = i;
  });
  for (const [i, content] of contents.entries()) {
    for (const part of content.parts ?? []) {
      if (part.thoughtSignature !== undefined && !signatureFits(part, part.thoughtSignature)) {
        return 'Corrupted thought signature.';
      }
    }
    const first = calls(content)[0]?.functionCall;
    if (
      thinking &&
      i > turnStart &&
      isModel(content) &&
      first &&
      !calls(content)[0]?.thoughtSignature
    ) {
      return `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${first.name}\` , position ${i + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`;
    }
  }
  return undefined;
}

function signatureFits(part: DecodedPart, signature: string): boolean {
  const call = part.functionCall;
  return call
    ? isValidCallSignature(signature, call.name ?? '', call.args ?? {})
    : isSimSignature(signature);
}
