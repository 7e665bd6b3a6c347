import type { BatchResult, TargetResult } from './batch-result.ts';

/** A batch result with one target in each interesting state, for the report tests. */
export function sampleResult(): BatchResult {
  const base = (id: string, file: string, name?: string): TargetResult['target'] => ({
    id,
    file,
    ...(name ? { name } : {}),
  });
  const usage = { tokens: { input: 1200, output: 340 }, costUsd: 0.0042, durationMs: 12_345 };
  return {
    jobId: 'bat_0123456789',
    title: 'tests for calc',
    framework: 'vitest',
    model: 'openai-compatible:qwen3-coder',
    startedAt: '2025-06-01T10:00:00.000Z',
    targets: [
      {
        target: base('src/math.ts#add', 'src/math.ts', 'add'),
        status: 'passed',
        testFiles: [
          {
            path: 'src/math.add.test.ts',
            content:
              "import { add } from './math';\ntest('adds', () => expect(add(1, 2)).toBe(3));\n",
            original: null,
          },
        ],
        sourceFiles: [],
        lastRun: {
          command: 'npx vitest run',
          exitCode: 0,
          output: '\u001b[32m✓\u001b[39m 1 passed',
          durationMs: 900,
        },
        ...usage,
      },
      {
        target: base('src/math.ts#div', 'src/math.ts', 'div'),
        status: 'failed',
        testFiles: [{ path: 'src/math.div.test.ts', content: 'broken\n', original: null }],
        sourceFiles: [],
        lastRun: {
          command: 'npx vitest run',
          exitCode: 1,
          output: 'AssertionError: expected <Infinity> & "NaN" to be \'0\'\u0000\u0007',
          durationMs: 800,
        },
        ...usage,
      },
      {
        target: base('src/strings.ts', 'src/strings.ts'),
        status: 'budget_exhausted',
        testFiles: [],
        sourceFiles: [],
        ...usage,
      },
      {
        target: base('src/io.ts', 'src/io.ts'),
        status: 'error',
        testFiles: [],
        sourceFiles: [],
        error: { code: 'model_error', message: 'the model <server> failed' },
        ...usage,
      },
      {
        target: base('src/late.ts', 'src/late.ts'),
        status: 'skipped',
        testFiles: [],
        sourceFiles: [],
        ...usage,
      },
    ],
  };
}
