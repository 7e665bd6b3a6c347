import { hashString, mulberry32 } from '../random.ts';

/**
 * Thought signatures in the sim. Real ones are opaque base64 the API checks on replay; the sim's
 * are derived from what they sign, so a replay can be verified the same way: a function call's
 * signature from its name and arguments (an adapter that moves it to another call, or re-encodes
 * it, is caught), a text reply's from its text. Google documents two dummy values that skip the
 * check, for histories that come from another model.
 */
export const SKIP_SIGNATURES: readonly string[] = [
  'skip_thought_signature_validator',
  'context_engineering_is_the_way_to_go',
];

/** Protobuf-looking lead bytes (field 1, length 46) then `TSIM`: base64 starts `Ci5UU0lN`. */
const MAGIC = [0x0a, 0x2e, 0x54, 0x53, 0x49, 0x4d];
const BODY_BYTES = 42;

export function callSignature(name: string, args: Record<string, unknown>): string {
  return sign(`call:${name}:${JSON.stringify(args)}`);
}

export function textSignature(text: string): string {
  return sign(`text:${text}`);
}

function sign(subject: string): string {
  const random = mulberry32(hashString(subject, 0x6e1));
  const bytes = [...MAGIC];
  for (let i = 0; i < BODY_BYTES; i++) bytes.push(Math.floor(random() * 256));
  return Buffer.from(bytes).toString('base64');
}

/** A signature the sim could have issued (or a documented dummy), whatever it signed. */
export function isSimSignature(signature: string): boolean {
  if (SKIP_SIGNATURES.includes(signature)) return true;
  const bytes = Buffer.from(signature, 'base64');
  return bytes.length === MAGIC.length + BODY_BYTES && MAGIC.every((b, i) => bytes[i] === b);
}

export function isValidCallSignature(
  signature: string,
  name: string,
  args: Record<string, unknown>,
): boolean {
  return SKIP_SIGNATURES.includes(signature) || signature === callSignature(name, args);
}
