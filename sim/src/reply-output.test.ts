import { describe, expect, it } from 'vitest';
import { fragments, renderOutput } from './reply-output.ts';
import { countTokens } from './tokenizer.ts';

describe('renderOutput', () => {
  it('streams one word per piece and counts what it streamed', () => {
    const output = renderOutput({ text: 'Hello there, world.', toolCalls: [] });
    expect(output.pieces).toEqual([
      { type: 'text', text: 'Hello' },
      { type: 'text', text: ' there,' },
      { type: 'text', text: ' world.' },
    ]);
    expect(output.finishReason).toBe('stop');
    expect(output.completionTokens).toBe(countTokens('Hello there, world.'));
  });

  it('splits each call into a start and its argument fragments, and finishes with tool_calls', () => {
    const output = renderOutput({
      text: '',
      toolCalls: [{ name: 'read_file', arguments: '{"path":"README.md"}' }],
    });
    expect(output.pieces[0]).toEqual({ type: 'tool_call_start', index: 0, name: 'read_file' });
    const args = output.pieces.flatMap((p) => (p.type === 'tool_call_args' ? [p.text] : []));
    expect(args.length).toBeGreaterThanOrEqual(2);
    expect(args.join('')).toBe('{"path":"README.md"}');
    expect(output.finishReason).toBe('tool_calls');
  });

  it('stops at the token budget with finish reason length', () => {
    const output = renderOutput({ text: 'one two three four', toolCalls: [] }, { maxTokens: 2 });
    expect(output.pieces.map((p) => (p.type === 'text' ? p.text : ''))).toEqual(['one', ' two']);
    expect(output).toMatchObject({ finishReason: 'length', completionTokens: 2 });
  });

  it('can truncate tool arguments mid-JSON, as a real model running out of tokens does', () => {
    const output = renderOutput(
      {
        text: '',
        toolCalls: [{ name: 'read_file', arguments: '{"path":"a/very/long/path/name.md"}' }],
      },
      { maxTokens: 6 },
    );
    expect(output.finishReason).toBe('length');
    const args = output.pieces.flatMap((p) => (p.type === 'tool_call_args' ? [p.text] : []));
    expect(() => JSON.parse(args.join(''))).toThrow();
  });

  it('ends the text before a stop sequence and drops any tool call after it', () => {
    const output = renderOutput(
      { text: 'alpha beta END gamma', toolCalls: [{ name: 'list_files', arguments: '{}' }] },
      { stop: ['END'] },
    );
    expect(output.pieces).toEqual([
      { type: 'text', text: 'alpha' },
      { type: 'text', text: ' beta ' },
    ]);
    expect(output.finishReason).toBe('stop');
  });
});

describe('renderOutput with reasoning, whole arguments and a forced finish', () => {
  const plan = {
    reasoning: 'I should read it.',
    text: 'Reading.',
    toolCalls: [{ name: 'read_file', arguments: '{"path":"a.md"}' }],
  };

  it('emits reasoning pieces first and counts them apart as well as in the total', () => {
    const output = renderOutput(plan);
    expect(output.pieces.slice(0, 5)).toEqual([
      { type: 'reasoning', text: 'I' },
      { type: 'reasoning', text: ' should' },
      { type: 'reasoning', text: ' read' },
      { type: 'reasoning', text: ' it.' },
      { type: 'text', text: 'Reading.' },
    ]);
    expect(output.reasoningTokens).toBe(countTokens('I should read it.'));
    expect(output.completionTokens).toBeGreaterThan(output.reasoningTokens);
  });

  it('spends the token budget on reasoning first, as thinking models do', () => {
    const output = renderOutput(plan, { maxTokens: 3 });
    expect(output.pieces.every((p) => p.type === 'reasoning')).toBe(true);
    expect(output).toMatchObject({ finishReason: 'length', reasoningTokens: 3 });
  });

  it('does not apply stop sequences to reasoning', () => {
    const output = renderOutput(plan, { stop: ['read'] });
    expect(output.pieces.filter((p) => p.type === 'reasoning')).toHaveLength(4);
  });

  it('sends a call’s arguments as one piece when asked to', () => {
    const output = renderOutput(plan, { wholeArguments: true });
    expect(output.pieces.filter((p) => p.type === 'tool_call_args')).toEqual([
      { type: 'tool_call_args', index: 0, text: '{"path":"a.md"}' },
    ]);
  });

  it('reports the finish the plan forces, unless the budget ran out', () => {
    expect(renderOutput({ ...plan, finish: 'stop' }).finishReason).toBe('stop');
    expect(renderOutput({ text: 'hi', toolCalls: [], finish: 'length' }).finishReason).toBe(
      'length',
    );
    expect(renderOutput({ ...plan, finish: 'stop' }, { maxTokens: 1 }).finishReason).toBe('length');
  });
});

describe('fragments', () => {
  it('splits arguments into three non-empty parts that join back exactly', () => {
    expect(fragments('{"path":"."}')).toEqual(['{"pa', 'th":', '"."}']);
    expect(fragments('{}')).toEqual(['{}']);
    expect(fragments('')).toEqual([]);
  });
});
