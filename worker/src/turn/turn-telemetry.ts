import { TurnEventMetrics } from '@tern/shared/obs/event-metrics';
import { genAi, tracedStream } from '@tern/shared/obs/genai-spans';
import {
  type Context,
  contextFromTraceparent,
  contextOf,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracing,
  untraced,
} from '@tern/shared/obs/tracing';
import type { WorkerMetrics } from '@tern/shared/obs/worker-metrics';
import type { SessionEvent } from '@tern/shared/protocol/events';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { FencedError, type SessionMeta, turnIdFor } from '@tern/shared/session/session-store';
import type { AgentTool, TurnIO } from '../agent/agent-types.ts';
import type { Hook, HookPoint } from '../agent/hook-types.ts';
import type { PublishObserver } from './event-publisher.ts';

/** A worker's metrics and spans, handed to every turn it runs. */
export type TurnObservability = {
  /** Absent when the operator turned metrics off (TERN_METRICS=0). */
  metrics?: WorkerMetrics | undefined;
  tracing: Tracing;
  /**
   * The traceparent the API gave the job of a session's input, for inputs a worker drains from
   * another input's job (consulted only while tracing).
   */
  traceparentOf?(sessionId: string, inputSeq: number): Promise<string | undefined>;
};

/** The job that brought a worker to a session: its input and the trace it belongs to. */
export type TurnOrigin = { inputSeq: number; traceparent?: string | undefined };

const hookPoints: [keyof Hook & `${string}${'Model' | 'Tool'}`, HookPoint][] = [
  ['beforeModel', 'before_model'],
  ['afterModel', 'after_model'],
  ['beforeTool', 'before_tool'],
  ['afterTool', 'after_tool'],
];

/**
 * What one turn reports, at the worker's edges only: the events it publishes become metrics,
 * and its model, tools, commits and publishes become spans of one trace, under the API's
 * enqueue span. The agent loop and the LLM layer stay unaware of it.
 */
export class TurnTelemetry {
  readonly sessionId: string;
  readonly turnId: string;
  readonly traceId: string;
  readonly #obs: TurnObservability | undefined;
  readonly #metrics: WorkerMetrics | undefined;
  readonly #events: TurnEventMetrics | undefined;
  readonly #span: Span;
  readonly #context: Context;
  readonly #provider: string;
  #outcome: string | undefined;

  private constructor(obs: TurnObservability | undefined, meta: SessionMeta, parent: Context) {
    this.#obs = obs;
    this.#metrics = obs?.metrics;
    this.sessionId = meta.id;
    this.turnId = turnIdFor(meta.id, meta.doneInputSeq + 1);
    this.#provider = meta.model.slice(0, Math.max(0, meta.model.indexOf(':')));
    this.#events = this.#metrics
      ? new TurnEventMetrics(this.#metrics, meta.model, () => performance.now())
      : undefined;
    const tracing = obs?.tracing;
    const options = {
      kind: SpanKind.CONSUMER,
      attributes: {
        [genAi.operation]: 'invoke_agent',
        [genAi.agentName]: 'tern',
        [genAi.conversationId]: meta.id,
        'tern.turn.id': this.turnId,
        'tern.input.seq': meta.doneInputSeq + 1,
        'tern.model': meta.model,
      },
    };
    this.#span = (tracing ?? untraced).startSpan('invoke_agent tern', options, parent);
    this.#context = contextOf(this.#span);
    this.traceId = this.#span.spanContext().traceId;
  }

  /** Opens the turn's span, continuing the trace its input's job carries. */
  static async start(
    obs: TurnObservability | undefined,
    meta: SessionMeta,
    origin: TurnOrigin | undefined,
  ): Promise<TurnTelemetry> {
    const inputSeq = meta.doneInputSeq + 1;
    let traceparent = origin?.inputSeq === inputSeq ? origin.traceparent : undefined;
    if (traceparent === undefined && obs?.tracing.enabled && obs.traceparentOf) {
      traceparent = await obs.traceparentOf(meta.id, inputSeq).catch(() => undefined);
    }
    return new TurnTelemetry(obs, meta, contextFromTraceparent(traceparent));
  }

  /** Log fields of every line about this turn. */
  get bindings(): { sessionId: string; turnId: string; traceId: string } {
    return { sessionId: this.sessionId, turnId: this.turnId, traceId: this.traceId };
  }

  /** Runs the turn inside its span; the span ends however the turn does. */
  async run<T>(body: () => Promise<T>): Promise<T> {
    this.#metrics?.activeTurns.inc();
    try {
      const result = await body();
      this.#span.setAttribute('tern.turn.outcome', this.#outcome ?? 'none');
      return result;
    } catch (error) {
      const fenced = error instanceof FencedError;
      this.#span.setAttribute('tern.turn.outcome', fenced ? 'lease_lost' : 'failed');
      this.#span.setStatus({
        code: SpanStatusCode.ERROR,
        message: fenced ? 'lease lost' : (error as Error).name,
      });
      throw error;
    } finally {
      this.#metrics?.activeTurns.dec();
      this.#span.end();
    }
  }

  /** Watches what the turn publishes (see EventPublisher). */
  readonly publishing: PublishObserver = {
    emitted: (event: SessionEvent) => {
      this.#events?.observe(event);
      if (event.type === 'turn_finished' || event.type === 'turn_paused') {
        this.#outcome = event.type === 'turn_paused' ? 'awaiting_approval' : event.reason;
        this.#span.setAttributes({
          [genAi.inputTokens]: event.usage.input,
          [genAi.outputTokens]: event.usage.output,
          'tern.cost_usd': event.usage.costUsd,
          'tern.turn.steps': event.steps,
        });
      }
    },
    published: (batch, startedAt, outcome) => {
      const metrics = this.#metrics;
      if (metrics) {
        if (outcome === 'ok') metrics.countPublished(batch.length);
        if (outcome === 'fenced') metrics.fencingRejections.inc({ op: 'publish' });
      }
      // Token deltas go out many times a second. Timing (and a span) for each batch that makes a
      // step visible (a committed entry, the turn's end) says what a watcher waits for, at a
      // cost that grows with steps rather than tokens.
      if (!batch.some(isStep)) return;
      const ms = performance.now() - startedAt;
      metrics?.publishDuration.observe(ms / 1000);
      if (this.#obs?.tracing.enabled) {
        const span = this.#obs.tracing.startSpan(
          'publish',
          {
            kind: SpanKind.PRODUCER,
            startTime: startedAt,
            attributes: { 'tern.events': batch.length, 'tern.publish.outcome': outcome },
          },
          this.#context,
        );
        if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        span.end();
      }
    },
  };

  /**
   * The turn's I/O with spans around model calls, tools and commits, hook timings, and fencing
   * rejections counted. `history` is the log the turn starts from (it tells a takeover).
   */
  instrument(history: readonly LogEntry[], io: TurnIO): TurnIO {
    const own = history.filter((e) => e.turnId === this.turnId);
    if (own.length > 0) {
      this.#span.setAttribute('tern.turn.resumed', true);
      // Resuming after an approval is the plan; resuming anything else means the previous
      // lease holder stopped mid-turn (crashed, paused, partitioned or shut down).
      if (!own.some((e) => e.kind === 'approval_requested')) this.#metrics?.leaseTakeovers.inc();
    }
    const tracing = this.#obs?.tracing;
    const traced = tracing?.enabled === true;
    const out: TurnIO = { ...io, commit: this.#commit(io.commit, traced) };
    if (traced) {
      out.stream = tracedStream(tracing, this.#context, io.stream, {
        provider: this.#provider,
        sessionId: this.sessionId,
      });
      out.tools = new Map([...io.tools].map(([name, tool]) => [name, this.#tool(tracing, tool)]));
    }
    if (this.#metrics && io.hooks && io.hooks.length > 0) {
      out.hooks = io.hooks.map((hook) => this.#hook(hook));
    }
    return out;
  }

  #commit(commit: TurnIO['commit'], traced: boolean): TurnIO['commit'] {
    return async (entries, options) => {
      const span = traced
        ? this.#obs?.tracing.startSpan(
            'commit',
            {
              attributes: {
                'tern.commit.entries': entries.length,
                'tern.commit.final': options.final,
                'tern.commit.kinds': kindsOf(entries),
              },
            },
            this.#context,
          )
        : undefined;
      try {
        const stamped = await commit(entries, options);
        span?.setAttribute('tern.commit.last_seq', stamped.at(-1)?.seq ?? 0);
        return stamped;
      } catch (error) {
        if (error instanceof FencedError) this.#metrics?.fencingRejections.inc({ op: 'commit' });
        span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
        throw error;
      } finally {
        span?.end();
      }
    };
  }

  #tool(tracing: Tracing, tool: AgentTool): AgentTool {
    const name = tool.spec.name;
    return {
      ...tool,
      execute: async (args, context) => {
        const span = tracing.startSpan(
          `execute_tool ${name}`,
          {
            attributes: {
              [genAi.operation]: 'execute_tool',
              [genAi.toolName]: name,
              [genAi.conversationId]: this.sessionId,
            },
          },
          this.#context,
        );
        try {
          const result = await tool.execute(args, context);
          span.setAttribute('tern.tool.ok', result.ok);
          return result;
        } catch (error) {
          span.setAttribute(genAi.errorType, (error as Error).name);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
          throw error;
        } finally {
          span.end();
        }
      },
    };
  }

  #hook(hook: Hook): Hook {
    const metrics = this.#metrics;
    if (!metrics) return hook;
    const timed: Hook = { ...hook };
    for (const [key, point] of hookPoints) {
      const handler = hook[key] as ((context: never) => unknown) | undefined;
      if (!handler) continue;
      const wrapped = async (context: never) => {
        const started = performance.now();
        try {
          return await handler(context);
        } finally {
          metrics.hookDuration.observe({ point }, (performance.now() - started) / 1000);
        }
      };
      Object.assign(timed, { [key]: wrapped });
    }
    return timed;
  }
}

/** The distinct kinds of a step's entries, in order (a step holds a handful). */
function kindsOf(entries: readonly { kind: string }[]): string[] {
  const kinds: string[] = [];
  for (const entry of entries) if (!kinds.includes(entry.kind)) kinds.push(entry.kind);
  return kinds;
}

const isStep = (event: SessionEvent) =>
  event.type === 'entry' || event.type === 'turn_finished' || event.type === 'turn_paused';
