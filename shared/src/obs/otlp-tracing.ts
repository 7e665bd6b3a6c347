import { hostname } from 'node:os';
import {
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SamplingDecision,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { IdPool, RecordedSpan, type SpanSink, WallClock } from './recorded-span.ts';
import type { Tracing } from './tracing.ts';

const SHUTDOWN_WAIT_MS = 3000;

export type OtlpOptions = {
  scheduledDelayMillis: number;
  /** Share of new traces recorded; a trace continued from elsewhere keeps its own decision. */
  ratio: number;
  service: string;
  onExportError: (message: string) => void;
};

/**
 * Spans recorded and exported over OTLP/HTTP (JSON) to `endpoint`/v1/traces, batched. Loaded
 * only when an endpoint is configured, so a process without one never loads the SDK.
 *
 * Sampling is parent-based, as the SDK's `ParentBasedSampler` does it: a span with a parent
 * follows the parent's decision (so a trace is recorded whole or not at all, across processes),
 * and the SDK's ratio sampler decides new traces. Spans are Tern's own `RecordedSpan`s handed to
 * the SDK's batch processor and OTLP exporter, which batch, serialize, send and retry them as
 * they would the SDK's own spans.
 */
export function otlpTracing(endpoint: string, options: OtlpOptions): Tracing {
  const { scheduledDelayMillis, service, onExportError } = options;
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  const processor = new BatchSpanProcessor({
    exporter: reportingFailures(exporter, onExportError),
    scheduledDelayMillis,
  });
  const sink: SpanSink = {
    processor,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: service,
      'service.namespace': 'tern',
      'service.instance.id': `${hostname()}-${process.pid}`,
    }),
    scope: { name: 'tern' },
    clock: new WallClock(),
  };
  const ids = new IdPool();
  const rootSampler = options.ratio < 1 ? new TraceIdRatioBasedSampler(options.ratio) : undefined;
  const sampledRoot = (traceId: string) =>
    !rootSampler ||
    rootSampler.shouldSample(ROOT_CONTEXT, traceId).decision ===
      SamplingDecision.RECORD_AND_SAMPLED;

  const startSpan = (name: string, spanOptions: SpanOptions = {}, parent = ROOT_CONTEXT): Span => {
    const parentSpan = trace.getSpan(parent);
    const parentContext = parentSpan?.spanContext();
    // A span of this process has valid ids by construction; only foreign ones (a traceparent
    // from job data or a header) are checked.
    const continued =
      parentContext !== undefined &&
      (parentSpan instanceof RecordedSpan || trace.isSpanContextValid(parentContext));
    const traceId = continued ? parentContext.traceId : ids.traceId();
    const sampled = continued
      ? (parentContext.traceFlags & TraceFlags.SAMPLED) !== 0
      : sampledRoot(traceId);
    const context: SpanContext = {
      traceId,
      spanId: ids.spanId(),
      traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    };
    if (continued && parentContext.traceState) context.traceState = parentContext.traceState;
    // Not sampled: the ids still travel (log lines, the job's traceparent), nothing is recorded.
    if (!sampled) return trace.wrapSpanContext(context);
    return new RecordedSpan(
      sink,
      context,
      name,
      spanOptions.kind ?? SpanKind.INTERNAL,
      continued ? parentContext : undefined,
      spanOptions.attributes,
      spanOptions.startTime,
    );
  };

  return {
    enabled: true,
    startSpan,
    // A collector that is down must not hold a stopping process past a few seconds.
    shutdown: () =>
      Promise.race([
        processor.shutdown(),
        new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref()),
      ]),
  };
}

/** An unreachable collector is said once a minute in the process log, not per batch. */
function reportingFailures(exporter: SpanExporter, report: (message: string) => void) {
  let lastReport = 0;
  const wrapped: SpanExporter = {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS && Date.now() - lastReport > 60_000) {
          lastReport = Date.now();
          report(result.error?.message ?? 'the OTLP endpoint refused the spans');
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  return wrapped;
}
