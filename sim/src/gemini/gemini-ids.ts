import { ALPHANUMERIC, type Random, randomChars } from '../random.ts';

/** `responseId` has the real API's shape: 23 characters of the URL-safe base64 alphabet. */
export const responseId = (random: Random) => randomChars(random, 23, `${ALPHANUMERIC}-_`);
