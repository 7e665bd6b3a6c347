import type { TestFramework } from './framework-detect.ts';
import type { BatchTarget } from './target-discovery.ts';

/**
 * The first message of each target's agent, from the job's template. Placeholders are
 * `{{name}}` (spaces inside the braces allowed):
 *
 * | placeholder | becomes |
 * | --- | --- |
 * | `{{target}}` | `function add in src/math.ts`, or `src/math.ts` for a whole file |
 * | `{{file}}` | the target's file |
 * | `{{function}}` | the function, class or `Type.Method`; empty for a whole file |
 * | `{{framework}}` | vitest, jest, pytest or go |
 * | `{{testCommand}}` | the command that runs the tests |
 * | `{{testFile}}` | where this target's tests go (one file per target, so targets never collide) |
 * | `{{rules}}` | whether the code under test may be changed (the job's `allowTouchingSource`) |
 * | `{{source}}` | the file's text, cut at `maxSourceChars` |
 *
 * An unknown name is refused when the job is submitted (`unknownPlaceholders`), not rendered
 * as is. Values are inserted in one pass, so a source file that contains `{{file}}` stays as it is.
 */
export const PROMPT_PLACEHOLDERS = [
  'target',
  'file',
  'function',
  'framework',
  'testCommand',
  'testFile',
  'rules',
  'source',
] as const;
export type PromptPlaceholder = (typeof PROMPT_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w]*)\s*\}\}/g;

export const DEFAULT_PROMPT_TEMPLATE = `Write {{framework}} tests for {{target}}.

Put them in {{testFile}} (create it) and run them with: {{testCommand}}
Read the code under test first. Cover its normal behaviour, edge cases and error cases.
Run the tests, read the failures, fix the tests, and repeat until they pass. Stop when they pass.
{{rules}}`;

export const DEFAULT_MAX_SOURCE_CHARS = 20_000;

export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(PROMPT_PLACEHOLDERS);
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  return [...new Set(names.filter((n) => !known.has(n)))];
}

export type PromptContext = {
  target: BatchTarget;
  framework: TestFramework;
  testCommand: string;
  allowTouchingSource: boolean;
  /** The target file's text; needed only when the template uses `{{source}}`. */
  source?: string;
  maxSourceChars?: number;
};

export function renderPrompt(template: string, ctx: PromptContext): string {
  const { target } = ctx;
  const values: Record<PromptPlaceholder, () => string> = {
    target: () =>
      target.name ? `${describeKind(target)} ${target.name} in ${target.file}` : target.file,
    file: () => target.file,
    function: () => target.name ?? '',
    framework: () => ctx.framework,
    testCommand: () => ctx.testCommand,
    testFile: () => suggestTestFile(target, ctx.framework),
    rules: () =>
      ctx.allowTouchingSource
        ? 'You may fix the code under test when a test shows a real bug: keep the fix minimal and say what you changed and why.'
        : `Change only test files. Never modify ${target.file} or any other code under test, even when a test reveals a bug: leave that test out and report the bug in your final answer.`,
    source: () => clipSource(ctx.source ?? '', ctx.maxSourceChars ?? DEFAULT_MAX_SOURCE_CHARS),
  };
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? values[name as PromptPlaceholder]() : whole,
  );
}

function describeKind(target: BatchTarget): string {
  return target.kind === 'file' ? 'file' : target.kind;
}

function clipSource(source: string, max: number): string {
  if (source.length <= max) return source;
  return `${source.slice(0, max)}\n… (cut at ${max} characters; read the file for the rest)`;
}

/**
 * Where a target's tests go, by the framework's convention, with the function in the name so
 * that targets of one file write different files and their patches never collide:
 * `src/math.ts#add` → `src/math.add.test.ts`; `pkg/calc.py#add` → `tests/test_pkg_calc_add.py`;
 * `calc/calc.go#Add` → `calc/calc_add_test.go`.
 */
export function suggestTestFile(target: BatchTarget, framework: TestFramework): string {
  const slash = target.file.lastIndexOf('/');
  const dir = slash === -1 ? '' : target.file.slice(0, slash + 1);
  const base = target.file.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const stem = dot === -1 ? base : base.slice(0, dot);
  const ext = dot === -1 ? '' : base.slice(dot);
  const name = target.name?.replace(/[^\w$.]/g, '_');
  switch (framework) {
    case 'vitest':
    case 'jest':
      return `${dir}${stem}${name ? `.${name}` : ''}.test${ext}`;
    case 'pytest': {
      const flat = `${dir}${stem}`.replace(/\//g, '_');
      return `tests/test_${flat}${name ? `_${name.replace(/\./g, '_')}` : ''}.py`;
    }
    case 'go':
      return `${dir}${stem}${name ? `_${name.replace(/\./g, '_').toLowerCase()}` : ''}_test.go`;
  }
}
