import { Agent, type AgentOptions, type AgentTool } from '@mariozechner/pi-agent-core';
import {
  type AssistantMessage,
  createAssistantMessageEventStream,
  type FauxProviderRegistration,
  fauxAssistantMessage,
  fauxToolCall,
  registerFauxProvider,
  type ToolCall,
  Type,
} from '@mariozechner/pi-ai';
import type { AgentHarness } from './agent-work.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tool(ms: number): AgentTool {
  return {
    name: 'work',
    label: 'work',
    description: 'does some work',
    parameters: Type.Object({ i: Type.Number(), step: Type.Number() }),
    execute: async () => {
      if (ms > 0) await sleep(ms);
      return { content: [{ type: 'text', text: 'ok' }], details: {} };
    },
  };
}

const calls = (n: number, step: number): ToolCall[] =>
  Array.from({ length: n }, (_, i) => fauxToolCall('work', { i, step }, { id: `c${step}_${i}` }));

async function turn(faux: FauxProviderRegistration, options: AgentOptions): Promise<void> {
  const agent = new Agent({
    toolExecution: 'parallel',
    ...options,
    initialState: {
      systemPrompt: 'You are a benchmark.',
      model: faux.getModel(),
      ...options.initialState,
    },
  });
  await agent.prompt('go');
  if (agent.state.errorMessage) throw new Error(`pi-agent-core: ${agent.state.errorMessage}`);
}

/**
 * `@mariozechner/pi-agent-core` on its faux in-process model (`tokensPerSecond` unset: chunks
 * arrive on microtasks, no delay), or for the long turn on a bare event stream that only hands
 * back a prepared message, so that the loop's own cost is what is measured.
 */
export function piAgentCore(): AgentHarness & { dispose(): void } {
  const faux = registerFauxProvider();
  return {
    name: 'pi-agent-core',
    dispose: () => faux.unregister(),
    async toolsTurn(n, toolMs) {
      faux.setResponses([
        fauxAssistantMessage(calls(n, 1), { stopReason: 'toolUse' }),
        fauxAssistantMessage('done'),
      ]);
      await turn(faux, { initialState: { tools: [tool(toolMs)] } });
    },
    async hooksTurn(n, hookMs) {
      faux.setResponses([
        fauxAssistantMessage(calls(n, 1), { stopReason: 'toolUse' }),
        fauxAssistantMessage('done'),
      ]);
      await turn(faux, {
        initialState: { tools: [tool(0)] },
        beforeToolCall: async () => {
          await sleep(hookMs);
          return undefined;
        },
      });
    },
    async longTurn(steps) {
      const starts: number[] = [];
      let step = 0;
      const model = faux.getModel();
      await turn(faux, {
        initialState: { tools: [tool(0)] },
        streamFn: () => {
          starts.push(performance.now());
          step += 1;
          const message = bare(model.api, model.provider, model.id, step <= steps ? step : 0);
          const stream = createAssistantMessageEventStream();
          queueMicrotask(() => {
            stream.push({ type: 'start', partial: message });
            stream.push({
              type: 'done',
              reason: message.stopReason === 'toolUse' ? 'toolUse' : 'stop',
              message,
            });
            stream.end(message);
          });
          return stream;
        },
      });
      return starts;
    },
  };
}

function bare(api: string, provider: string, model: string, step: number): AssistantMessage {
  const base = fauxAssistantMessage(step > 0 ? calls(1, step) : 'done', {
    stopReason: step > 0 ? 'toolUse' : 'stop',
  });
  return { ...base, api, provider, model };
}
