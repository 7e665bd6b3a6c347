import { type Random, randomChars } from '../random.ts';

/** Bitcoin's base58: the alphabet Anthropic's ids look drawn from (no 0, O, I, l). */
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Identifier shapes of the real API (`msg_01…`, `toolu_01…`, `req_011C…`). */
export const messageId = (random: Random) => `msg_01${randomChars(random, 22, BASE58)}`;
export const toolUseId = (random: Random) => `toolu_01${randomChars(random, 22, BASE58)}`;
export const anthropicRequestId = (random: Random) => `req_011C${randomChars(random, 20, BASE58)}`;
