import { describe, expect, it } from 'vitest';
import { contextFromTraceparent, contextOf, startTracing, traceparentOf } from './tracing.ts';

const config = { OTEL_BSP_SCHEDULE_DELAY: 5000 };
const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracing without an OTLP endpoint', async () => {
  const tracing = await startTracing(config, 'tern-test');

  it('records nothing', () => {
    expect(tracing.enabled).toBe(false);
    expect(tracing.startSpan('x').isRecording()).toBe(false);
  });

  it('still gives every new trace an id, so log lines of one turn correlate', () => {
    const a = tracing.startSpan('a').spanContext();
    const b = tracing.startSpan('b').spanContext();
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.traceId).not.toBe(b.traceId);
  });

  it("continues the trace a job's traceparent names, across the W3C header and back", () => {
    const span = tracing.startSpan('turn', {}, contextFromTraceparent(parent));
    expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const child = tracing.startSpan('commit', {}, contextOf(span));
    expect(child.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceparentOf(span)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('ignores a malformed or all-zero traceparent and starts afresh', () => {
    for (const bad of ['nonsense', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '']) {
      const span = tracing.startSpan('turn', {}, contextFromTraceparent(bad));
      expect(span.spanContext().traceId).not.toBe('00000000000000000000000000000000');
      expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

describe('tracing with an OTLP endpoint', () => {
  it('records spans under the given parent', async () => {
    const tracing = await startTracing(
      { ...config, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
      'tern-test',
    );
    expect(tracing.enabled).toBe(true);
    const span = tracing.startSpan('turn', {}, contextFromTraceparent(parent));
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span.spanContext().spanId).not.toBe('00f067aa0ba902b7');
    span.end();
  });

  it('records only the share of new traces asked for, and follows a continued trace', async () => {
    const tracing = await startTracing(
      { ...config, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_TRACES_SAMPLER_ARG: 0 },
      'tern-test',
    );
    const root = tracing.startSpan('enqueue');
    expect(root.isRecording()).toBe(false);
    expect(root.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceparentOf(root)).toMatch(/-00$/);
    expect(tracing.startSpan('turn', {}, contextFromTraceparent(parent)).isRecording()).toBe(true);
    await tracing.shutdown();
  });

  it('records nothing of a trace its origin chose not to sample, but keeps its ids', async () => {
    const tracing = await startTracing(
      { ...config, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
      'tern-test',
    );
    const unsampled = parent.replace(/-01$/, '-00');
    const turn = tracing.startSpan('turn', {}, contextFromTraceparent(unsampled));
    expect(turn.isRecording()).toBe(false);
    expect(turn.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const commit = tracing.startSpan('commit', {}, contextOf(turn));
    expect(commit.isRecording()).toBe(false);
    expect(commit.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceparentOf(commit)).toMatch(/-00$/);
    await tracing.shutdown();
  });

  it('nests a span under a recorded span of the same process', async () => {
    const tracing = await startTracing(
      { ...config, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
      'tern-test',
    );
    const turn = tracing.startSpan('turn');
    const commit = tracing.startSpan('commit', {}, contextOf(turn)) as unknown as {
      parentSpanContext?: { spanId: string };
      spanContext(): { traceId: string };
    };
    expect(commit.spanContext().traceId).toBe(turn.spanContext().traceId);
    expect(commit.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    await tracing.shutdown();
  });
});
