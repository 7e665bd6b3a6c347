/** What the last probe of one dependency found. */
export type CheckResult =
  | { status: 'up' }
  | {
      status: 'down';
      /** `timeout`: no answer in time; `unavailable`: it answered with, or failed on, an error. */
      code: 'timeout' | 'unavailable';
      /** A short reason (an error name or code, a status): never a host, key or credential. */
      message: string;
    };

/** The body of `/readyz`: 200 when every check is up, 503 naming what is down otherwise. */
export type ReadinessReport = {
  status: 'ready' | 'unavailable';
  down: string[];
  checks: Record<string, CheckResult>;
};

/** Resolves when the dependency serves; rejects (or hangs) when it does not. */
export type Probe = (signal: AbortSignal) => Promise<void>;

/** One dependency's current state, as `/readyz` asks for it. */
export type Check = () => Promise<CheckResult>;

export type ProbeTiming = {
  /** A result is reused for this long after it was found. */
  intervalMs: number;
  /** A probe still running after this long is abandoned (its signal aborts) and counts as down. */
  timeoutMs: number;
  /** Monotonic milliseconds. */
  now?: () => number;
  /** Told when the state changes (down to up, up to down, one reason to another). */
  onChange?: (result: CheckResult) => void;
};

const UP: CheckResult = { status: 'up' };

/**
 * A probe run at most once per interval however often readiness is asked, one at a time, and
 * never for longer than its timeout: the answer to `/readyz` costs the dependency one request per
 * interval and never waits on a dependency that hangs.
 */
export class CachedProbe {
  readonly #probe: Probe;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #onChange: ((result: CheckResult) => void) | undefined;
  #last: { result: CheckResult; at: number } | undefined;
  #running: Promise<CheckResult> | undefined;

  constructor(probe: Probe, timing: ProbeTiming) {
    this.#probe = probe;
    this.#intervalMs = timing.intervalMs;
    this.#timeoutMs = timing.timeoutMs;
    this.#now = timing.now ?? (() => performance.now());
    this.#onChange = timing.onChange;
  }

  readonly check: Check = () => {
    const last = this.#last;
    if (last && this.#now() - last.at < this.#intervalMs) return Promise.resolve(last.result);
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  };

  async #run(): Promise<CheckResult> {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(down('timeout', `no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    const answered = (async () => this.#probe(controller.signal))().then(
      () => UP,
      (error: unknown) => down('unavailable', failureReason(error)),
    );
    const result = await Promise.race([answered, timedOut]);
    clearTimeout(timer);
    const previous = this.#last?.result;
    this.#last = { result, at: this.#now() };
    if (!previous || !sameResult(previous, result)) this.#onChange?.(result);
    return result;
  }
}

/** A check of a state the process knows without asking anyone (a consumer that is running). */
export function flagCheck(isUp: () => boolean, reason: string): Check {
  return () => Promise.resolve(isUp() ? UP : down('unavailable', reason));
}

/** Asks every check at once; a check that throws counts as down. */
export async function readiness(checks: Record<string, Check>): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map((name) =>
      (checks[name] as Check)().catch((error: unknown) =>
        down('unavailable', failureReason(error)),
      ),
    ),
  );
  const report: ReadinessReport = { status: 'ready', down: [], checks: {} };
  names.forEach((name, i) => {
    const result = results[i] as CheckResult;
    report.checks[name] = result;
    if (result.status === 'down') report.down.push(name);
  });
  if (report.down.length > 0) report.status = 'unavailable';
  return report;
}

/** The HTTP status of a readiness report. */
export const readinessStatus = (report: ReadinessReport): 200 | 503 =>
  report.status === 'ready' ? 200 : 503;

/**
 * An error as a short, safe reason: S3's error name (`NoSuchBucket`, `AccessDenied`) or a
 * network code (`ECONNREFUSED`), with the HTTP status when there was one. Messages are left out:
 * they carry hosts, ports and keys, and `/readyz` is open to anyone who reaches the port.
 */
export function failureReason(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'error';
  const e = error as {
    name?: unknown;
    code?: unknown;
    Code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const text = (v: unknown) => (typeof v === 'string' && /^[\w.-]{1,64}$/.test(v) ? v : undefined);
  const name = text(e.code) ?? text(e.Code) ?? text(e.name) ?? 'error';
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' ? `${name} (status ${status})` : name;
}

function down(code: 'timeout' | 'unavailable', message: string): CheckResult {
  return { status: 'down', code, message };
}

function sameResult(a: CheckResult, b: CheckResult): boolean {
  if (a.status === 'up' || b.status === 'up') return a.status === b.status;
  return a.code === b.code && a.message === b.message;
}
