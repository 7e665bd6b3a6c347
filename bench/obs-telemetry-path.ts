import { type ChildProcess, spawn } from 'node:child_process';
import type { Config } from '@tern/shared/config/config';
import type { LlmEvent, StreamFn } from '@tern/shared/llm/llm-types';
import { createLogger } from '@tern/shared/obs/logger';
import type { SessionEvent } from '@tern/shared/protocol/events';
import type { LogEntry, NewLogEntry } from '@tern/shared/session/log-entry';
import type { CommitObserver, SessionMeta, SessionStore } from '@tern/shared/session/session-store';
import type { AgentTool, TurnIO } from '../worker/src/agent/agent-types.ts';
import { runTurn } from '../worker/src/agent/run-turn.ts';
import { EventPublisher } from '../worker/src/turn/event-publisher.ts';
import type { TurnObservability } from '../worker/src/turn/turn-telemetry.ts';
import { TurnTelemetry } from '../worker/src/turn/turn-telemetry.ts';
import { workerObservability } from '../worker/src/turn/worker-observability.ts';

/** Sessions run at once and turns per measured block; blocks alternate between on and off. */
const SESSIONS = 16;
const TURNS_PER_BLOCK = 1024;
/** Text deltas of an answer: what the simulator streams for its short default replies. */
const DELTAS = 24;

const usage = { input: 120, output: 24, cached: 0, reasoning: 0, costUsd: 0.0001 };

/**
 * The CPU a worker spends on one turn's telemetry, measured where no other process's load can
 * reach it: the real agent loop, `TurnTelemetry`, `EventPublisher` and the worker's metrics and
 * tracing, run in this process against in-memory stand-ins for the model, the tool, the store
 * and Redis, with metrics and tracing on (spans exported over OTLP/HTTP to a sink in another
 * process) and off. Blocks of turns alternate between the two; the figures are CPU microseconds
 * per turn, one per block. Scrapes are left out: they cost per second, not per turn, and the
 * end-to-end rounds include them.
 */
export async function telemetryPathCost(rounds: number): Promise<{ off: number[]; on: number[] }> {
  const sink = await startSinkProcess();
  try {
    const on = await workerObservability(
      {
        TERN_METRICS: true,
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_BSP_SCHEDULE_DELAY: 1000,
        OTEL_TRACES_SAMPLER_ARG: 1,
      } as Config,
      createLogger('bench', 'error'),
    );
    const off = await workerObservability(
      { TERN_METRICS: false, OTEL_BSP_SCHEDULE_DELAY: 1000 } as Config,
      createLogger('bench', 'error'),
    );
    const modes: Record<'on' | 'off', Mode> = {
      on: { obs: on.turns, onCommit: on.onCommit },
      off: { obs: off.turns, onCommit: undefined },
    };
    // Warm-up until the JIT has settled: the first few thousand turns run measurably slower.
    for (let i = 0; i < 3; i++) {
      for (const mode of ['on', 'off'] as const) await block(modes[mode], TURNS_PER_BLOCK);
    }
    const result = { off: [] as number[], on: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const mode of order) result[mode].push(await block(modes[mode], TURNS_PER_BLOCK));
    }
    await on.tracing.shutdown();
    return result;
  } finally {
    sink.stop();
  }
}

type Mode = {
  obs: TurnObservability;
  onCommit: CommitObserver | undefined;
};

/** Turns per session before the next session starts, as in the end-to-end bench. */
const TURNS_PER_SESSION = 8;
let sessions = 0;

/** CPU microseconds per turn over `turns` turns, `SESSIONS` sessions at a time. */
async function block(mode: Mode, turns: number): Promise<number> {
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: SESSIONS }, async () => {
      let session = { id: `ses_bench_${++sessions}`, history: [] as LogEntry[], inputSeq: 1 };
      for (let t = next++; t < turns; t = next++) {
        session.history = await oneTurn(mode, session.id, session.history, session.inputSeq, t);
        session.inputSeq += 1;
        if (session.inputSeq > TURNS_PER_SESSION) {
          session = { id: `ses_bench_${++sessions}`, history: [], inputSeq: 1 };
        }
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / turns;
}

/** One turn as a worker runs it, half of them with a read_file call (as in the end-to-end bench). */
async function oneTurn(
  mode: Mode,
  sessionId: string,
  history: LogEntry[],
  inputSeq: number,
  n: number,
): Promise<LogEntry[]> {
  const meta = {
    id: sessionId,
    model: 'openai-compatible:tern-sim',
    doneInputSeq: inputSeq - 1,
    inputSeq,
  } as SessionMeta;
  const telemetry = await TurnTelemetry.start(mode.obs, meta, {
    inputSeq,
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  });
  const turnId = telemetry.turnId;
  const publisher = new EventPublisher(memoryStore, lease(sessionId), 1000, telemetry.publishing);
  let lastSeq = history.at(-1)?.seq ?? 0;
  const log = [...history];
  const io: TurnIO = telemetry.instrument(history, {
    stream: model(n % 2 === 0),
    tools: new Map([['read_file', readFile]]),
    now: () => performance.now(),
    emit: (event: SessionEvent) => publisher.emit(event),
    async commit(entries: NewLogEntry[]) {
      const started = performance.now();
      const at = Date.now();
      const stamped = entries.map(
        (e, i) => ({ ...e, seq: lastSeq + i + 1, turnId, epoch: 1, at }) as LogEntry,
      );
      // The segment the store would write, for its size.
      const bytes = stamped.map((e) => JSON.stringify(e)).join('\n').length;
      await Promise.resolve();
      lastSeq += stamped.length;
      log.push(...stamped);
      mode.onCommit?.({ ms: performance.now() - started, bytes, result: 'committed' });
      for (const entry of stamped) publisher.emit({ type: 'entry', entry });
      return stamped;
    },
  });
  await telemetry.run(async () => {
    const outcome = await runTurn(io, {
      sessionId,
      turnId,
      inputSeq,
      text: n % 2 === 0 ? 'Please read README.md' : `hello number ${n}`,
      model: 'tern-sim',
      modelRef: meta.model,
      systemPrompt: 'You are a benchmark.',
      history,
      maxSteps: 25,
    });
    await publisher.flush();
    if (outcome.reason !== 'stop') throw new Error(`turn ended with ${outcome.reason}`);
  });
  return log;
}

const lease = (sessionId: string) => ({ sessionId, token: 'bench', epoch: 1 });

/** Redis as far as the publisher sees it: every batch lands. */
const memoryStore = {
  publish: async (_lease: unknown, batch: unknown[]) => batch.map((_, i) => `0-${i + 1}`),
} as unknown as SessionStore;

const readFile: AgentTool = {
  spec: {
    name: 'read_file',
    description: 'reads a file',
    parameters: { type: 'object', properties: { path: { type: 'string' } } },
  },
  idempotent: true,
  execute: async () => ({ ok: true, output: 'benchmark workspace\nline two' }),
};

/** A zero-latency model: with `tool`, a read_file call first, then a streamed answer. */
function model(tool: boolean): StreamFn {
  let call = 0;
  return () => {
    call += 1;
    return answer(tool && call === 1);
  };
}

async function* answer(toolCall: boolean): AsyncGenerator<LlmEvent> {
  const started = performance.now();
  yield { type: 'start', model: 'tern-sim' };
  if (toolCall) {
    yield { type: 'tool_call_start', id: 'c1', name: 'read_file' };
    yield { type: 'tool_call_delta', id: 'c1', argsText: '{"path":"README.md"}' };
    yield {
      type: 'tool_call_end',
      id: 'c1',
      name: 'read_file',
      rawArgs: '{"path":"README.md"}',
      parsed: { ok: true, args: { path: 'README.md' } },
    };
  } else {
    for (let i = 0; i < DELTAS; i++) yield { type: 'text_delta', text: ` word${i}` };
  }
  yield { type: 'usage', usage };
  const durationMs = performance.now() - started;
  yield {
    type: 'finish',
    reason: toolCall ? 'tool_calls' : 'stop',
    timing: { ttftMs: durationMs / 2, durationMs, attempts: 1 },
  };
}

/** An OTLP/HTTP endpoint in its own process, so that receiving spans costs this one nothing. */
async function startSinkProcess(): Promise<{ url: string; stop(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200, { 'content-type': 'application/json' }).end('{}')); });
       s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the span sink exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}
