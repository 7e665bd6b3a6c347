import type { LlmRequest } from '@tern/shared/llm/llm-types';
import type { SessionEvent } from '@tern/shared/protocol/events';
import type { LogEntry, NewLogEntry } from '@tern/shared/session/log-entry';
import type { AgentTool, TurnInput, TurnIO } from './agent-types.ts';
import { runTurn } from './run-turn.ts';
import { type ScriptedStep, scriptedModel } from './scripted-model.ts';

/**
 * Test support: a turn over a scripted model and an in-memory log. Each `run()` starts from the
 * log as committed so far, the way a worker that picks the turn up would.
 */
export function turnHarness(
  steps: (ScriptedStep | ((request: LlmRequest) => ScriptedStep))[],
  tools: AgentTool[] = [],
  options: { io?: Partial<TurnIO>; input?: Partial<TurnInput> } = {},
) {
  const log: LogEntry[] = [];
  const events: SessionEvent[] = [];
  const finals: number[] = [];
  const model = scriptedModel(steps);
  const stamp = (entries: NewLogEntry[], turnId: string) =>
    entries.map((e, i) => ({ ...e, seq: log.length + i + 1, turnId, epoch: 1, at: 0 }) as LogEntry);
  const io: TurnIO = {
    stream: model,
    tools: new Map(tools.map((t) => [t.spec.name, t])),
    now: () => performance.now(),
    emit: (e) => events.push(e),
    async commit(entries: NewLogEntry[], { final }) {
      const stamped = stamp(entries, 't1');
      log.push(...stamped);
      if (final) finals.push(log.length);
      return stamped;
    },
    ...options.io,
  };
  const input: TurnInput = {
    sessionId: 's1',
    turnId: 't1',
    inputSeq: 1,
    text: 'hello',
    model: 'm',
    modelRef: 'scripted:m',
    systemPrompt: 'system',
    history: [],
    maxSteps: 5,
    ...options.input,
  };
  return {
    io,
    log,
    events,
    finals,
    model,
    run: (more: Partial<TurnInput> = {}) => runTurn(io, { ...input, history: [...log], ...more }),
    /** Appends entries as another process would (the API committing a decision, a dead worker). */
    seed: (...entries: NewLogEntry[]) => log.push(...stamp(entries, 't1')),
    /** Appends entries of an earlier turn. */
    seedTurn: (turnId: string, ...entries: NewLogEntry[]) => log.push(...stamp(entries, turnId)),
    kinds: () => log.map((e) => e.kind),
    states: () => events.flatMap((e) => (e.type === 'turn_state' ? [`${e.from}>${e.to}`] : [])),
    finished: () => log.filter((e) => e.kind === 'tool_finished'),
  };
}

/** A tool that records its calls and answers after `ms`. */
export function recordingTool(
  name: string,
  options: { ms?: number; idempotent?: boolean; parameters?: Record<string, unknown> } = {},
) {
  const calls: Record<string, unknown>[] = [];
  const tool: AgentTool = {
    spec: { name, description: name, parameters: options.parameters ?? { type: 'object' } },
    idempotent: options.idempotent ?? true,
    execute: async (args) => {
      calls.push(args);
      if (options.ms) await new Promise((r) => setTimeout(r, options.ms));
      return { ok: true, output: `${name} ran with ${JSON.stringify(args)}` };
    },
  };
  return { tool, calls };
}

/** A promise with its resolver, to make a test's order explicit. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
