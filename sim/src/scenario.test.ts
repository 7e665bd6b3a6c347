import { describe, expect, it } from 'vitest';
import { parseScenario, scenarioMap } from './scenario.ts';

const valid = {
  name: 'read-then-answer',
  steps: [
    {
      reasoning: 'I need the file.',
      toolCalls: [
        { name: 'read_file', arguments: { path: 'a.md' } },
        { name: 'broken', arguments: '{"path": "a.' },
      ],
    },
    { text: 'Done.', finish: 'stop' },
    { fault: 'rate_limit' },
  ],
};

const messageOf = (value: unknown, fallback?: string) => {
  const parsed = parseScenario(value, fallback);
  return parsed.ok ? undefined : parsed.message;
};

describe('parseScenario', () => {
  it('accepts a scenario with object and raw-string arguments, finishes and faults', () => {
    const parsed = parseScenario(valid);
    expect(parsed).toEqual({ ok: true, scenario: valid });
  });

  it('takes the name from the caller when the document has none, and refuses a mismatch', () => {
    expect(parseScenario({ steps: [{ text: 'x' }] }, 'from-file')).toMatchObject({
      ok: true,
      scenario: { name: 'from-file' },
    });
    expect(messageOf(valid, 'other')).toBe(
      'scenario.name "read-then-answer" does not match "other"',
    );
  });

  it('defaults missing arguments to an empty object (an argument-less call)', () => {
    const parsed = parseScenario({ name: 'n', steps: [{ toolCalls: [{ name: 'now' }] }] });
    expect(parsed.ok && parsed.scenario.steps[0]?.toolCalls).toEqual([
      { name: 'now', arguments: {} },
    ]);
  });

  it('points at the offending field', () => {
    expect(messageOf({ name: 'n', steps: [] })).toBe('scenario.steps must be a non-empty array');
    expect(messageOf({ name: 'a b', steps: [{}] })).toMatch(/^scenario\.name must be/);
    expect(messageOf({ name: 'n', steps: [{ finish: 'done' }] })).toBe(
      'steps[0].finish must be one of stop, length, tool_calls',
    );
    expect(messageOf({ name: 'n', steps: [{}, { fault: 'meteor' }] })).toMatch(
      /^steps\[1\]\.fault must be one of rate_limit, /,
    );
    expect(messageOf({ name: 'n', steps: [{ toolCalls: [{ name: 'x', arguments: [1] }] }] })).toBe(
      'steps[0].toolCalls[0].arguments must be an object or a string',
    );
    expect(messageOf({ name: 'n', steps: [{ toolCalls: [{ name: '' }] }] })).toBe(
      'steps[0].toolCalls[0].name must not be empty',
    );
    expect(messageOf('nope')).toBe('scenario must be an object');
  });

  it('refuses unknown fields, so a snake_case typo does not pass silently', () => {
    expect(messageOf({ name: 'n', steps: [{ tool_calls: [] }] })).toBe(
      'steps[0] has unknown field "tool_calls" (allowed: reasoning, text, toolCalls, finish, fault)',
    );
  });
});

describe('scenarioMap', () => {
  it('builds the map from a list or a record keyed by name', () => {
    expect([...scenarioMap([valid]).keys()]).toEqual(['read-then-answer']);
    expect(scenarioMap({ short: { steps: [{ text: 'hi' }] } }).get('short')?.steps).toEqual([
      { text: 'hi' },
    ]);
  });

  it('fails at start-up on an invalid scenario', () => {
    expect(() => scenarioMap([{ name: 'bad', steps: 'x' }])).toThrow(
      'tern sim: invalid scenario: scenario.steps must be a non-empty array',
    );
  });
});
