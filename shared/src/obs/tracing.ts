import { randomBytes } from 'node:crypto';
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

export { type Context, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';

export type TracingConfig = {
  /** OTLP/HTTP endpoint (the standard OTEL_EXPORTER_OTLP_ENDPOINT); unset: no export at all. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  /** How long finished spans are batched before export (OTEL_BSP_SCHEDULE_DELAY). */
  OTEL_BSP_SCHEDULE_DELAY: number;
  /** Share of new traces recorded (OTEL_TRACES_SAMPLER_ARG); 1 when unset. */
  OTEL_TRACES_SAMPLER_ARG?: number;
};

/**
 * Spans of one process. With no OTLP endpoint nothing is recorded or sent, and the SDK is not
 * even loaded: spans are the API's non-recording ones, which still carry a trace id so that log
 * lines of one turn correlate across processes. No global provider is registered; the instance
 * is passed where spans are made.
 */
export type Tracing = {
  readonly enabled: boolean;
  /** A span under `parent`; a new trace when `parent` holds none. */
  startSpan(name: string, options?: SpanOptions, parent?: Context): Span;
  /** Sends what is still batched; call before the process exits. */
  shutdown(): Promise<void>;
};

export async function startTracing(
  config: TracingConfig,
  service: string,
  onExportError: (message: string) => void = () => {},
): Promise<Tracing> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return untraced;
  const { otlpTracing } = await import('./otlp-tracing.ts');
  return otlpTracing(endpoint, {
    scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
    ratio: config.OTEL_TRACES_SAMPLER_ARG ?? 1,
    service,
    onExportError,
  });
}

/** Tracing off: spans cost one object and carry their parent's ids, or a fresh trace id. */
export const untraced: Tracing = {
  enabled: false,
  startSpan(_name, _options, parent) {
    const existing = parent && trace.getSpanContext(parent);
    if (existing && trace.isSpanContextValid(existing)) return trace.wrapSpanContext(existing);
    const ids = randomBytes(24).toString('hex');
    return trace.wrapSpanContext({
      traceId: ids.slice(0, 32),
      spanId: ids.slice(32),
      traceFlags: TraceFlags.NONE,
    });
  },
  shutdown: async () => {},
};

const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(-.*)?$/;

/** The context of a W3C `traceparent` (from job data or a request header); root when invalid. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  const m = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  // Version ff is forbidden; version 00 has nothing after the flags (W3C Trace Context, 3.2).
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined)) return ROOT_CONTEXT;
  const spanContext = {
    traceId: m[2]!,
    spanId: m[3]!,
    traceFlags: Number.parseInt(m[4]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (!trace.isSpanContextValid(spanContext)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

/** `00-<trace id>-<span id>-<flags>`: what another process continues the trace from. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The context whose parent is `span`. */
export const contextOf = (span: Span): Context => trace.setSpan(ROOT_CONTEXT, span);
