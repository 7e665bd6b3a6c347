import { randomFillSync } from 'node:crypto';
import type {
  Attributes,
  AttributeValue,
  Exception,
  HrTime,
  Link,
  Span,
  SpanContext,
  SpanKind,
  SpanStatus,
  TimeInput,
} from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { hrTimeDuration } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace';

/** Where a span goes once ended, and what it says about its origin. */
export type SpanSink = {
  processor: Pick<SpanProcessor, 'onEnd'>;
  resource: Resource;
  scope: { name: string; version?: string };
  clock: WallClock;
};

/**
 * A recording span that is its own `ReadableSpan`: ended, it goes straight to the SDK's batch
 * processor and OTLP exporter. The SDK's own span does the same work with checks Tern's spans do
 * not need (attribute validation and limits, per-span SDK metrics, several clock reads and time
 * conversions per span), at about four times the CPU per span (measured for issue 9). Attributes
 * are set by Tern's own code, always as strings, numbers, booleans or arrays of them, so they are
 * not validated again; unset values are dropped.
 */
export class RecordedSpan implements Span, ReadableSpan {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly attributes: Attributes;
  readonly links: Link[] = [];
  readonly events: TimedEvent[] = [];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  duration: HrTime = [0, 0];
  ended = false;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly #context: SpanContext;
  readonly #sink: SpanSink;
  /** Wall-clock milliseconds of the start, with the monotonic clock's sub-millisecond part. */
  readonly #startMs: number;

  constructor(
    sink: SpanSink,
    context: SpanContext,
    name: string,
    kind: SpanKind,
    parent: SpanContext | undefined,
    attributes: Attributes | undefined,
    startTime: TimeInput | undefined,
  ) {
    this.#sink = sink;
    this.#context = context;
    this.name = name;
    this.kind = kind;
    this.parentSpanContext = parent;
    const own: Attributes = {};
    for (const key in attributes) {
      const value = attributes[key];
      if (value !== undefined && value !== null) own[key] = value;
    }
    this.attributes = own;
    this.#startMs = sink.clock.toWallMs(startTime);
    this.startTime = hrTime(this.#startMs);
  }

  get resource(): Resource {
    return this.#sink.resource;
  }

  get instrumentationScope(): { name: string; version?: string } {
    return this.#sink.scope;
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (!this.ended && value !== undefined && value !== null) this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributes?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const isTime =
      typeof attributes === 'number' || Array.isArray(attributes) || attributes instanceof Date;
    const at = this.#sink.clock.toWallMs(isTime ? (attributes as TimeInput) : time);
    this.events.push({
      name,
      attributes: isTime ? {} : ((attributes as Attributes | undefined) ?? {}),
      time: hrTime(at),
      droppedAttributesCount: 0,
    });
    return this;
  }

  addLink(link: Link): this {
    this.links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    this.links.push(...links);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (!this.ended) this.status = status;
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    const endMs = Math.max(this.#startMs, this.#sink.clock.toWallMs(endTime));
    this.endTime = hrTime(endMs);
    // From the two recorded times, so that duration is exactly end - start: converting the
    // millisecond difference on its own can round a nanosecond the other way.
    this.duration = hrTimeDuration(this.startTime, this.endTime);
    this.ended = true;
    this.#sink.processor.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes =
      typeof exception === 'string'
        ? { 'exception.message': exception }
        : {
            'exception.type': String(exception.code ?? exception.name ?? 'Error'),
            ...(exception.message ? { 'exception.message': exception.message } : {}),
          };
    this.addEvent('exception', attributes, time);
  }
}

/**
 * Wall-clock time with the monotonic clock's resolution. Span times are `performance.now()`
 * readings shifted by one offset to the wall clock, so spans of one process keep their order to
 * the microsecond; the offset follows a step of the wall clock (NTP) but not the millisecond
 * granularity of `Date.now()`, which would otherwise let a child appear to start before its parent.
 */
export class WallClock {
  #offset = Date.now() - performance.now();
  #checkedAt = performance.now();

  /** Milliseconds since the epoch for `time` (a `performance.now()` reading, or now). */
  toWallMs(time: TimeInput | undefined): number {
    if (time === undefined) return this.#now();
    if (typeof time === 'number') {
      // A performance.now() reading is far below any epoch time; anything larger is epoch ms.
      return time < 1e12 ? time + this.#offset : time;
    }
    if (time instanceof Date) return time.getTime();
    return time[0] * 1000 + time[1] / 1e6;
  }

  #now(): number {
    const perf = performance.now();
    if (perf - this.#checkedAt > 1000) {
      this.#checkedAt = perf;
      const offset = Date.now() - perf;
      if (Math.abs(offset - this.#offset) > 2) this.#offset = offset;
    }
    return perf + this.#offset;
  }
}

/** OpenTelemetry's `[seconds, nanoseconds]` of a millisecond time. */
export function hrTime(ms: number): HrTime {
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}

/**
 * Random span and trace ids as hex, cut from a pool the CSPRNG fills a few kilobytes at a time
 * and that is turned into hex once per fill, rather than a system call and a conversion per id.
 */
export class IdPool {
  readonly #bytes = Buffer.alloc(4096);
  #hex = '';
  /** Next unused hex digit of `#hex`. */
  #at = 0;

  traceId(): string {
    for (;;) {
      const id = this.#take(32);
      if (id !== '00000000000000000000000000000000') return id;
    }
  }

  spanId(): string {
    for (;;) {
      const id = this.#take(16);
      if (id !== '0000000000000000') return id;
    }
  }

  #take(digits: number): string {
    if (this.#at + digits > this.#hex.length) {
      randomFillSync(this.#bytes);
      this.#hex = this.#bytes.toString('hex');
      this.#at = 0;
    }
    const id = this.#hex.slice(this.#at, this.#at + digits);
    this.#at += digits;
    return id;
  }
}
