import { ALPHANUMERIC, HEX, type Random, randomChars } from '../random.ts';

/** Identifier formats of the real API, so clients that validate or log them see familiar shapes. */
export const completionId = (random: Random) => `chatcmpl-${randomChars(random, 29, ALPHANUMERIC)}`;
export const toolCallId = (random: Random) => `call_${randomChars(random, 24, ALPHANUMERIC)}`;
export const requestId = (random: Random) => `req_${randomChars(random, 32, HEX)}`;

/** The sim's fixed backend "build", reported like OpenAI's `fp_…` fingerprints. */
export const SYSTEM_FINGERPRINT = 'fp_7e5a51a1c0';
