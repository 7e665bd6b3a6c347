import type { LlmEvent, LlmRequest, StreamFn } from '@tern/shared/llm/llm-types';
import type { LogEntry, NewLogEntry } from '@tern/shared/session/log-entry';
import type { AgentTool, TurnIO } from '../worker/src/agent/agent-types.ts';
import type { Hook } from '../worker/src/agent/hook-types.ts';
import { runTurn } from '../worker/src/agent/run-turn.ts';
import type { AgentHarness } from './agent-work.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const usage = { input: 1, output: 1, cached: 0, reasoning: 0, costUsd: 0 };

/**
 * A zero-latency in-process model: `calls(step)` tool calls on each of the first `steps` calls
 * (distinct arguments, so the repeat guard stays out of it), then a final text answer. It keeps
 * nothing of the requests, and records when each call started.
 */
function model(steps: number, calls: number, starts: number[]): StreamFn {
  let step = 0;
  return (_request: LlmRequest) => {
    starts.push(performance.now());
    step += 1;
    return answer(step <= steps ? calls : 0, step);
  };
}

async function* answer(calls: number, step: number): AsyncGenerator<LlmEvent> {
  yield { type: 'start', model: 'bench' };
  if (calls === 0) yield { type: 'text_delta', text: 'done' };
  for (let i = 0; i < calls; i++) {
    const id = `c${step}_${i}`;
    const args = { i, step };
    yield { type: 'tool_call_start', id, name: 'work' };
    yield {
      type: 'tool_call_end',
      id,
      name: 'work',
      rawArgs: JSON.stringify(args),
      parsed: { ok: true, args },
    };
  }
  yield { type: 'usage', usage };
  yield { type: 'finish', reason: calls > 0 ? 'tool_calls' : 'stop' };
}

function tool(ms: number): AgentTool {
  return {
    spec: {
      name: 'work',
      description: 'does some work',
      parameters: { type: 'object', properties: { i: { type: 'number' } } },
    },
    idempotent: true,
    execute: async () => {
      if (ms > 0) await sleep(ms);
      return { ok: true, output: 'ok' };
    },
  };
}

/** One turn with a no-op in-memory store: commit only stamps sequence numbers. */
async function turn(stream: StreamFn, work: AgentTool, hooks: Hook[] = []): Promise<void> {
  let seq = 0;
  const io: TurnIO = {
    stream,
    tools: new Map([['work', work]]),
    now: () => performance.now(),
    emit: () => {},
    hooks,
    async commit(entries: NewLogEntry[]) {
      return entries.map((e) => ({ ...e, seq: ++seq, turnId: 't', epoch: 1, at: 0 }) as LogEntry);
    },
  };
  const outcome = await runTurn(io, {
    sessionId: 's',
    turnId: 't',
    inputSeq: 1,
    text: 'go',
    model: 'bench',
    modelRef: 'bench:bench',
    systemPrompt: 'You are a benchmark.',
    history: [],
    maxSteps: 100_000,
  });
  if (outcome.reason !== 'stop') throw new Error(`tern turn ended with ${outcome.reason}`);
}

export const tern: AgentHarness = {
  name: 'tern',
  toolsTurn: (calls, toolMs) => turn(model(1, calls, []), tool(toolMs)),
  hooksTurn: (calls, hookMs) =>
    turn(model(1, calls, []), tool(0), [
      {
        name: 'wait',
        timeoutMs: 10 * hookMs,
        beforeTool: () => sleep(hookMs).then(() => undefined),
      },
    ]),
  async longTurn(steps) {
    const starts: number[] = [];
    await turn(model(steps, 1, starts), tool(0));
    return starts;
  },
};
