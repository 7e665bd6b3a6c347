import type { IncomingHttpHeaders } from 'node:http';

/**
 * Faults a request can ask for, by name. The names are wire-neutral; each wire API has a table that
 * says what a fault looks like in its dialect, so a new fault is one name here and one row per table.
 */
export const SIM_FAULTS = [
  'rate_limit',
  'server_error',
  'unavailable',
  'context_overflow',
  'cut',
  'hang',
  /** 529 overloaded where the provider has it (Anthropic), 503 elsewhere. */
  'overloaded',
  /** HTTP 200, some output, then an error inside the stream. */
  'stream_error',
  /** A tool call whose argument JSON is cut off, then a normal finish. */
  'truncated_tool_json',
  /** Every piece arrives after a long pause (default 200 ms), to exercise timeouts and cancel. */
  'slow_drip',
] as const;

export type SimFault = (typeof SIM_FAULTS)[number];

export const FAULT_HEADER = 'x-tern-sim-fault';

export function isSimFault(value: string): value is SimFault {
  return (SIM_FAULTS as readonly string[]).includes(value);
}

export type FaultChoice =
  | { ok: true; fault: SimFault | undefined }
  | { ok: false; message: string };

/** The request's fault header wins over the server default; `none` turns the default off. */
export function chooseFault(
  headers: IncomingHttpHeaders,
  fallback: SimFault | undefined,
): FaultChoice {
  const raw = headers[FAULT_HEADER];
  if (raw === undefined) return { ok: true, fault: fallback };
  const value = typeof raw === 'string' ? raw.trim() : '';
  if (value === 'none') return { ok: true, fault: undefined };
  if (isSimFault(value)) return { ok: true, fault: value };
  return {
    ok: false,
    message: `Invalid '${FAULT_HEADER}' header: expected one of none, ${SIM_FAULTS.join(', ')}.`,
  };
}
