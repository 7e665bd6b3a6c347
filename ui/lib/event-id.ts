/**
 * Orders Redis Stream ids (`<ms>-<seq>`). Ids are compared numerically, part by part: as strings
 * `9-0` would sort after `10-0`.
 */
export function compareEventIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

export const NO_EVENT_ID = '0-0';
