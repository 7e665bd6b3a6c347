import { describe, expect, it } from 'vitest';
import { type ModelMessage, planReply } from './rule-model.ts';

const user = (text: string): ModelMessage => ({ role: 'user', text });

describe('planReply', () => {
  it('calls read_file with the path-like token the user mentions', () => {
    const plan = planReply({
      messages: [user('please open src/a.ts now')],
      toolNames: ['read_file'],
    });
    expect(plan).toEqual({
      text: '',
      toolCalls: [{ name: 'read_file', arguments: '{"path":"src/a.ts"}' }],
    });
  });

  it('lists files before reading when both tools apply', () => {
    const plan = planReply({
      messages: [user('list the files, then show README.md')],
      toolNames: ['read_file', 'list_files'],
    });
    expect(plan.toolCalls.map((c) => c.name)).toEqual(['list_files', 'read_file']);
    expect(plan.toolCalls[0]?.arguments).toBe('{"path":"."}');
  });

  it('does not call a tool the request did not offer', () => {
    const plan = planReply({ messages: [user('read README.md')], toolNames: ['list_files'] });
    expect(plan.toolCalls).toEqual([]);
    expect(plan.text).toMatch(/^You said: read README\.md /);
  });

  it('quotes the first line of a tool result verbatim, labelled by the path it read', () => {
    const plan = planReply({
      messages: [
        user('read README.md'),
        { role: 'assistant', text: '' },
        {
          role: 'tool',
          text: '# Tern  —  agents\n\nSecond   line',
          toolName: 'read_file',
          toolPath: 'README.md',
        },
      ],
      toolNames: ['read_file'],
    });
    expect(plan).toEqual({
      text: 'I read README.md. It says: # Tern  —  agents Second line',
      toolCalls: [],
    });
  });

  it('summarises every result of a parallel tool call, in order', () => {
    const plan = planReply({
      messages: [
        user('list files and read a.md'),
        { role: 'assistant', text: '' },
        { role: 'tool', text: 'a.md\nb.md', toolName: 'list_files' },
        { role: 'tool', text: 'alpha', toolName: 'read_file', toolPath: 'a.md' },
      ],
      toolNames: ['read_file', 'list_files'],
    });
    expect(plan.text).toBe('I read list_files. It says: a.md b.md I read a.md. It says: alpha');
  });

  it('keeps a first line longer than the excerpt limit whole', () => {
    const line = 'x'.repeat(250);
    const plan = planReply({ messages: [{ role: 'tool', text: `${line}\nmore` }], toolNames: [] });
    expect(plan.text).toBe(`I read the tool result. It says: ${line}`);
  });

  it('echoes the user, truncated to 300 characters', () => {
    const plan = planReply({ messages: [user('y'.repeat(400))], toolNames: [] });
    expect(plan.text.startsWith(`You said: ${'y'.repeat(300)}… `)).toBe(true);
  });

  it('produces exactly 300 word chunks for a long answer', () => {
    const plan = planReply({ messages: [user('give me a long answer')], toolNames: [] });
    expect(plan.text.match(/\s*\S+/g)).toHaveLength(300);
  });

  it('thinks one sentence per decision when asked to reason, and not otherwise', () => {
    const ask = (reasoning: boolean) =>
      planReply({
        messages: [user('list files, then read docs/a.md')],
        toolNames: ['read_file', 'list_files'],
        reasoning,
      });
    expect(ask(true).reasoning).toBe(
      'The user asked about the files, so I will list them. The user mentioned docs/a.md, so I will read it with read_file.',
    );
    expect(ask(true).toolCalls).toEqual(ask(false).toolCalls);
    expect(ask(false)).not.toHaveProperty('reasoning');
    const echo = planReply({ messages: [user('hi')], toolNames: [], reasoning: true });
    expect(echo.reasoning).toBe('No tool fits this message, so I will answer directly.');
  });

  it('is deterministic', () => {
    const request = { messages: [user('list files')], toolNames: ['list_files'] };
    expect(planReply(request)).toEqual(planReply(request));
  });
});
