import { ALPHANUMERIC, HEX, type Random, randomChars } from '../random.ts';
import type { OpenAiDialect } from './openai-dialect.ts';

/** Identifier formats of the real servers, so clients that validate or log them see familiar shapes. */
export const completionId = (random: Random) => `chatcmpl-${randomChars(random, 29, ALPHANUMERIC)}`;
export const toolCallId = (random: Random) => `call_${randomChars(random, 24, ALPHANUMERIC)}`;
export const requestId = (random: Random) => `req_${randomChars(random, 32, HEX)}`;

/** vLLM's ids are `random_uuid()`: a uuid4 as 32 hex digits. */
export const vllmCompletionId = (random: Random) => `chatcmpl-${randomChars(random, 32, HEX)}`;
export const vllmToolCallId = (random: Random) => `chatcmpl-tool-${randomChars(random, 32, HEX)}`;

export function dialectCompletionId(dialect: OpenAiDialect, random: Random): string {
  return dialect.envelope === 'vllm' ? vllmCompletionId(random) : completionId(random);
}

export function dialectToolCallId(dialect: OpenAiDialect, random: Random): string {
  return dialect.toolCallIdStyle === 'vllm' ? vllmToolCallId(random) : toolCallId(random);
}

/** The sim's fixed backend "build", reported like OpenAI's `fp_…` fingerprints. */
export const SYSTEM_FINGERPRINT = 'fp_7e5a51a1c0';
