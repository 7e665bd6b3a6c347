import { describe, expect, it } from 'vitest';
import { piecesBeforeStreamError, truncateToolArguments } from './fault-plan.ts';
import { renderOutput } from './reply-output.ts';

describe('truncateToolArguments', () => {
  it('cuts every call’s JSON half-way and still finishes with tool_calls', () => {
    const plan = truncateToolArguments(
      {
        text: '',
        toolCalls: [
          { name: 'list_files', arguments: '{"path":"."}' },
          { name: 'read_file', arguments: '{}' },
        ],
      },
      [],
    );
    expect(plan.toolCalls.map((c) => c.arguments)).toEqual(['{"path', '{']);
    for (const call of plan.toolCalls) expect(() => JSON.parse(call.arguments)).toThrow();
    expect(renderOutput(plan).finishReason).toBe('tool_calls');
  });

  it('adds a call to the first offered tool when the reply had none', () => {
    const plan = truncateToolArguments({ text: 'hi', toolCalls: [] }, ['grep', 'read_file']);
    expect(plan.text).toBe('hi');
    expect(plan.toolCalls).toEqual([{ name: 'grep', arguments: '{"path":"R' }]);
  });
});

describe('piecesBeforeStreamError', () => {
  it('sends a few pieces, never the whole reply', () => {
    const pieces = (n: number) =>
      Array.from({ length: n }, () => ({ type: 'text', text: 'w' }) as const);
    expect(piecesBeforeStreamError(pieces(20))).toBe(3);
    expect(piecesBeforeStreamError(pieces(3))).toBe(1);
    expect(piecesBeforeStreamError(pieces(1))).toBe(0);
  });
});
