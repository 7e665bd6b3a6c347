import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROMPT_TEMPLATE,
  renderPrompt,
  suggestTestFile,
  unknownPlaceholders,
} from './prompt-template.ts';
import type { BatchTarget } from './target-discovery.ts';

const add: BatchTarget = {
  id: 'src/math.ts#add',
  file: 'src/math.ts',
  kind: 'function',
  name: 'add',
  line: 1,
};
const whole: BatchTarget = { id: 'src/math.ts', file: 'src/math.ts', kind: 'file' };

describe('renderPrompt', () => {
  it('fills every placeholder of the default template', () => {
    const prompt = renderPrompt(DEFAULT_PROMPT_TEMPLATE, {
      target: add,
      framework: 'vitest',
      testCommand: 'npx vitest run',
      allowTouchingSource: false,
    });
    expect(prompt).toContain('Write vitest tests for function add in src/math.ts.');
    expect(prompt).toContain('Put them in src/math.add.test.ts (create it)');
    expect(prompt).toContain('run them with: npx vitest run');
    expect(prompt).toContain('Never modify src/math.ts');
    expect(prompt).not.toMatch(/\{\{/);
  });

  it('inserts values once: a source that contains a placeholder stays as written', () => {
    const prompt = renderPrompt('{{ file }}|{{function}}|{{source}}|{{rules}}', {
      target: whole,
      framework: 'jest',
      testCommand: 'npx jest',
      allowTouchingSource: true,
      source: 'const t = "{{file}}";',
    });
    expect(prompt).toBe(
      'src/math.ts||const t = "{{file}}";|You may fix the code under test when a test shows a real bug: keep the fix minimal and say what you changed and why.',
    );
  });

  it('cuts a long source and says so', () => {
    const prompt = renderPrompt('{{source}}', {
      target: whole,
      framework: 'vitest',
      testCommand: 'x',
      allowTouchingSource: false,
      source: 'a'.repeat(50),
      maxSourceChars: 10,
    });
    expect(prompt).toBe(`${'a'.repeat(10)}\n… (cut at 10 characters; read the file for the rest)`);
  });
});

describe('unknownPlaceholders', () => {
  it('names the placeholders a template may not use', () => {
    expect(unknownPlaceholders('{{file}} {{ filename }} {{repo}} {{repo}}')).toEqual([
      'filename',
      'repo',
    ]);
    expect(unknownPlaceholders(DEFAULT_PROMPT_TEMPLATE)).toEqual([]);
  });
});

describe('suggestTestFile', () => {
  it('follows each framework’s convention, one file per target', () => {
    expect(suggestTestFile(whole, 'vitest')).toBe('src/math.test.ts');
    expect(suggestTestFile(add, 'jest')).toBe('src/math.add.test.ts');
    expect(suggestTestFile({ id: 'a.jsx', file: 'a.jsx', kind: 'file' }, 'jest')).toBe(
      'a.test.jsx',
    );
    expect(suggestTestFile({ ...add, file: 'pkg/calc.py' }, 'pytest')).toBe(
      'tests/test_pkg_calc_add.py',
    );
    expect(suggestTestFile({ id: 'calc.py', file: 'calc.py', kind: 'file' }, 'pytest')).toBe(
      'tests/test_calc.py',
    );
    expect(
      suggestTestFile(
        { id: 'c/c.go#Calc.Sum', file: 'c/c.go', kind: 'method', name: 'Calc.Sum' },
        'go',
      ),
    ).toBe('c/c_calc_sum_test.go');
  });
});
