import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { hrTime, IdPool, RecordedSpan, type SpanSink, WallClock } from './recorded-span.ts';

function sink(): SpanSink & { ended: ReadableSpan[] } {
  const ended: ReadableSpan[] = [];
  return {
    ended,
    processor: { onEnd: (span) => ended.push(span) },
    resource: resourceFromAttributes({ 'service.name': 'tern-test' }),
    scope: { name: 'tern' },
    clock: new WallClock(),
  };
}

const context = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
};
const nanos = ([s, ns]: [number, number]) => BigInt(s) * 1_000_000_000n + BigInt(ns);

describe('a recorded span', () => {
  it('reaches the processor once, when it ends, with what was set on it', () => {
    const out = sink();
    const parent = { ...context, spanId: 'aaaaaaaaaaaaaaaa', isRemote: true };
    const span = new RecordedSpan(
      out,
      context,
      'commit',
      SpanKind.PRODUCER,
      parent,
      { 'tern.commit.entries': 2, 'tern.commit.kinds': ['tool_started'], missing: undefined },
      undefined,
    );
    span.setAttribute('tern.commit.last_seq', 7);
    span.addEvent('first_output');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'lease lost' });
    expect(out.ended).toEqual([]);
    expect(span.isRecording()).toBe(true);
    span.end();
    span.end();
    span.setAttribute('after', 'end');
    expect(out.ended).toHaveLength(1);
    const ended = out.ended[0] as ReadableSpan;
    expect(ended).toBe(span);
    expect(ended).toMatchObject({
      name: 'commit',
      kind: SpanKind.PRODUCER,
      parentSpanContext: parent,
      attributes: {
        'tern.commit.entries': 2,
        'tern.commit.kinds': ['tool_started'],
        'tern.commit.last_seq': 7,
      },
      status: { code: SpanStatusCode.ERROR, message: 'lease lost' },
      ended: true,
      resource: out.resource,
      instrumentationScope: { name: 'tern' },
    });
    expect(Object.keys(ended.attributes)).not.toContain('missing');
    expect(Object.keys(ended.attributes)).not.toContain('after');
    expect(ended.events.map((e) => e.name)).toEqual(['first_output']);
    expect(ended.spanContext()).toBe(context);
    expect(span.isRecording()).toBe(false);
  });

  it('keeps start, events and end in order, from performance.now() readings', () => {
    const out = sink();
    const started = performance.now();
    const span = new RecordedSpan(
      out,
      context,
      'publish',
      SpanKind.PRODUCER,
      undefined,
      {},
      started,
    );
    span.addEvent('retry', { 'tern.retry.attempt': 1 });
    span.end();
    const ended = out.ended[0] as ReadableSpan;
    const start = nanos(ended.startTime);
    const event = nanos((ended.events[0] as { time: [number, number] }).time);
    const end = nanos(ended.endTime);
    expect(start).toBeLessThanOrEqual(event);
    expect(event).toBeLessThanOrEqual(end);
    expect(nanos(ended.duration)).toBe(end - start);
    // Wall-clock time, not time since the process started.
    expect(Number(start / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
    expect(ended.events[0]?.attributes).toEqual({ 'tern.retry.attempt': 1 });
  });

  it('never ends before it started, whatever end time it is given', () => {
    const out = sink();
    const span = new RecordedSpan(out, context, 'x', SpanKind.INTERNAL, undefined, {}, undefined);
    span.end(0);
    const ended = out.ended[0] as ReadableSpan;
    expect(ended.endTime).toEqual(ended.startTime);
    expect(ended.duration).toEqual([0, 0]);
  });
});

describe('span times and ids', () => {
  it('converts milliseconds to [seconds, nanoseconds] without a carry error', () => {
    expect(hrTime(1_700_000_000_123.5)).toEqual([1_700_000_000, 123_500_000]);
    expect(hrTime(999.9999999999)).toEqual([1, 0]);
    expect(hrTime(0)).toEqual([0, 0]);
  });

  it('draws distinct, well-formed, non-zero ids', () => {
    const ids = new IdPool();
    const traces = new Set(Array.from({ length: 1000 }, () => ids.traceId()));
    const spans = new Set(Array.from({ length: 1000 }, () => ids.spanId()));
    expect(traces.size).toBe(1000);
    expect(spans.size).toBe(1000);
    for (const id of traces) expect(id).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    for (const id of spans) expect(id).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
  });
});
