import type { Caller } from '@tern/shared/auth/user-store';
import type { Request } from 'express';

const callers = new WeakMap<Request, Caller>();

export function setCaller(req: Request, caller: Caller): void {
  callers.set(req, caller);
}

/** The authenticated user of a request under `/v1` (see auth-required.ts). */
export function callerOf(req: Request): Caller {
  const caller = callers.get(req);
  if (!caller) throw new Error(`${req.method} ${req.path} is served without authentication`);
  return caller;
}
