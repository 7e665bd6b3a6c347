import { hashString, mulberry32 } from '../random.ts';
import type { ReplyPlan } from '../rule-model.ts';

/**
 * Thinking in the sim: a deterministic signature per thinking text, checked when a history replays
 * it (as the real API rejects a block whose signature does not match), and a short reasoning text
 * for plans that have none.
 */
export type ThinkingMode =
  | { enabled: false }
  /** `omitted`: the block carries only its signature (`display: "omitted"`). */
  | { enabled: true; omitted: boolean };

const SIGNATURE_BYTES = 72;

/** Base64 like the real signatures, derived from the text so a replay can be verified. */
export function thinkingSignature(thinking: string): string {
  const random = mulberry32(hashString(thinking, 0x7e57));
  const bytes = new Uint8Array(SIGNATURE_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return `Eu${Buffer.from(bytes).toString('base64')}`;
}

export function isValidSignature(thinking: string, signature: string): boolean {
  return signature === thinkingSignature(thinking);
}

/** What the rule model "thinks" before a plan, when the plan brings no reasoning of its own. */
export function reasoningFor(plan: ReplyPlan): string {
  if (plan.reasoning) return plan.reasoning;
  if (plan.toolCalls.length > 0) {
    const names = plan.toolCalls.map((call) => call.name).join(' and ');
    return `The user asked about files, so I should call ${names} before answering.`;
  }
  return 'The user sent a message; I will answer it briefly and plainly.';
}
