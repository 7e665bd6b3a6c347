import { hostname } from 'node:os';
import { ROOT_CONTEXT, type Tracer } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
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
 */
export function otlpTracing(endpoint: string, options: OtlpOptions): Tracing {
  const { scheduledDelayMillis, service, onExportError } = options;
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new TracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.ratio) }),
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: service,
      'service.namespace': 'tern',
      'service.instance.id': `${hostname()}-${process.pid}`,
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: reportingFailures(exporter, onExportError),
        scheduledDelayMillis,
      }),
    ],
  });
  const tracer: Tracer = provider.getTracer('tern');
  return {
    enabled: true,
    startSpan: (name, options, parent) => tracer.startSpan(name, options, parent ?? ROOT_CONTEXT),
    // A collector that is down must not hold a stopping process past a few seconds.
    shutdown: () =>
      Promise.race([
        provider.shutdown(),
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
