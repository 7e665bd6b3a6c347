import { describe, expect, it } from 'vitest';
import { END_OF_SCENARIO, type PlanContext, planFor } from './reply-planner.ts';
import type { ModelMessage, ModelRequest } from './rule-model.ts';
import { scenarioMap } from './scenario.ts';

const ctx: PlanContext = {
  fault: undefined,
  scenarios: scenarioMap([
    {
      name: 'agent',
      steps: [
        {
          reasoning: 'Look first.',
          toolCalls: [{ name: 'read_file', arguments: { path: 'a.md' } }],
        },
        { text: 'All done.', fault: 'slow_drip' },
      ],
    },
    { name: 'calls-only', steps: [{ toolCalls: [{ name: 'list_files', arguments: '{}' }] }] },
  ]),
};

const user: ModelMessage = { role: 'user', text: 'read a.md' };
const assistant: ModelMessage = { role: 'assistant', text: '' };
const tool: ModelMessage = { role: 'tool', text: 'alpha', toolName: 'read_file' };
const request = (...messages: ModelMessage[]): ModelRequest => ({
  messages,
  toolNames: ['read_file'],
});
const scenario = (name: string) => ({ 'x-tern-sim-scenario': name });

describe('planFor', () => {
  it('uses the rule model when no scenario is named', () => {
    const choice = planFor(request(user), {}, ctx);
    expect(choice).toMatchObject({
      ok: true,
      fault: undefined,
      plan: { toolCalls: [{ name: 'read_file', arguments: '{"path":"a.md"}' }] },
    });
    expect(choice.ok && choice.scenario).toBeUndefined();
  });

  it('walks the script by the number of assistant messages in the request', () => {
    const first = planFor(request({ role: 'system', text: 's' }, user), scenario('agent'), ctx);
    expect(first).toEqual({
      ok: true,
      fault: undefined,
      scenario: { name: 'agent', step: 0 },
      plan: {
        reasoning: 'Look first.',
        text: '',
        toolCalls: [{ name: 'read_file', arguments: '{"path":"a.md"}' }],
      },
    });
    const second = planFor(request(user, assistant, tool), scenario('agent'), ctx);
    expect(second).toMatchObject({
      scenario: { step: 1 },
      plan: { text: 'All done.', toolCalls: [] },
      fault: 'slow_drip',
    });
  });

  it('answers past the end with the last step’s text, or a fixed sentence, and no call', () => {
    const past = planFor(request(user, assistant, tool, assistant, user), scenario('agent'), ctx);
    expect(past).toMatchObject({ plan: { text: 'All done.', toolCalls: [] }, fault: undefined });
    const silent = planFor(request(user, assistant, tool), scenario('calls-only'), ctx);
    expect(silent).toMatchObject({ plan: { text: END_OF_SCENARIO, toolCalls: [] } });
  });

  it('lets the request’s fault header override the step’s, and none switch it off', () => {
    const later = request(user, assistant, tool);
    expect(planFor(later, { ...scenario('agent'), 'x-tern-sim-fault': 'hang' }, ctx)).toMatchObject(
      { fault: 'hang' },
    );
    expect(planFor(later, { ...scenario('agent'), 'x-tern-sim-fault': 'none' }, ctx)).toMatchObject(
      { fault: undefined },
    );
  });

  it('falls back to the server fault only outside scenarios', () => {
    const faulty = { ...ctx, fault: 'server_error' as const };
    expect(planFor(request(user), {}, faulty)).toMatchObject({ fault: 'server_error' });
    expect(planFor(request(user), scenario('agent'), faulty)).toMatchObject({ fault: undefined });
  });

  it('applies truncated_tool_json to the plan, even when the script has no call', () => {
    const choice = planFor(
      request(user, assistant, tool),
      { ...scenario('agent'), 'x-tern-sim-fault': 'truncated_tool_json' },
      ctx,
    );
    expect(choice.ok).toBe(true);
    if (!choice.ok) return;
    expect(choice.plan.finish).toBe('tool_calls');
    const [call] = choice.plan.toolCalls;
    expect(call?.name).toBe('read_file');
    expect(() => JSON.parse(call?.arguments ?? '')).toThrow();
  });

  it('reports an unknown scenario or fault as a bad header', () => {
    expect(planFor(request(user), scenario('nope'), ctx)).toEqual({
      ok: false,
      header: 'x-tern-sim-scenario',
      message: `Invalid 'x-tern-sim-scenario' header: no scenario named "nope" (known: agent, calls-only).`,
    });
    expect(planFor(request(user), { 'x-tern-sim-fault': 'meteor' }, ctx)).toMatchObject({
      ok: false,
      header: 'x-tern-sim-fault',
    });
  });
});
