import type { BatchResult, TargetResult } from './batch-result.ts';

/**
 * A batch result as JUnit XML, the format CI servers (Jenkins, GitLab, GitHub's test reporters)
 * read: one `<testsuite>` per source file, one `<testcase>` per target. A target that passed is
 * a passing case; `failed` and `budget_exhausted` are failures, `error` an error, `cancelled` and
 * `skipped` skipped, each carrying the last test run's output (its tail, ANSI colours removed).
 * Pure: the same result always gives the same bytes.
 */

export const DEFAULT_MAX_OUTPUT_CHARS = 64 * 1024;

export function writeJunitReport(
  result: BatchResult,
  options: { maxOutputChars?: number } = {},
): string {
  const maxOutput = options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
  const byFile = new Map<string, TargetResult[]>();
  for (const target of result.targets) {
    const list = byFile.get(target.target.file) ?? [];
    list.push(target);
    byFile.set(target.target.file, list);
  }
  const totals = count(result.targets);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name=${attr(`tern batch ${result.title ?? result.jobId}`)} ${counts(totals)} time=${attr(seconds(totals.ms))}>`,
  ];
  for (const [file, targets] of byFile) {
    const t = count(targets);
    lines.push(
      `  <testsuite name=${attr(file)} ${counts(t)} time=${attr(seconds(t.ms))} timestamp=${attr(result.startedAt.replace(/Z$/, ''))}>`,
      '    <properties>',
      `      <property name="tern.job" value=${attr(result.jobId)}/>`,
      `      <property name="tern.framework" value=${attr(result.framework)}/>`,
      ...(result.model ? [`      <property name="tern.model" value=${attr(result.model)}/>`] : []),
      '    </properties>',
    );
    for (const target of targets) lines.push(...testcase(target, maxOutput));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

function testcase(target: TargetResult, maxOutput: number): string[] {
  const name = target.target.name ?? target.target.file;
  const open = `    <testcase name=${attr(name)} classname=${attr(target.target.file)} time=${attr(seconds(target.durationMs))}`;
  const output = target.lastRun ? tail(target.lastRun.output, maxOutput) : '';
  const files = target.testFiles.map((f) => f.path).join(', ') || 'none';
  const summary = `tern: test files ${files}; ${target.tokens.input} input and ${target.tokens.output} output tokens, $${target.costUsd.toFixed(4)}${target.lastRun ? `; ran ${target.lastRun.command}` : ''}`;
  const out = [`      <system-out>${text(`${summary}\n${output}`)}</system-out>`];
  switch (target.status) {
    case 'passed':
      return [`${open}>`, ...out, '    </testcase>'];
    case 'failed':
    case 'budget_exhausted': {
      const message =
        target.status === 'failed'
          ? `the tests still fail${exit(target)}`
          : `the budget ran out before the tests passed${exit(target)}`;
      return [
        `${open}>`,
        `      <failure message=${attr(message)} type=${attr(target.status)}>${text(output)}</failure>`,
        ...out,
        '    </testcase>',
      ];
    }
    case 'error': {
      const error = target.error ?? { code: 'error', message: 'the target failed' };
      return [
        `${open}>`,
        `      <error message=${attr(error.message)} type=${attr(error.code)}>${text(output)}</error>`,
        ...out,
        '    </testcase>',
      ];
    }
    case 'cancelled':
    case 'skipped':
      return [`${open}>`, `      <skipped message=${attr(target.status)}/>`, '    </testcase>'];
  }
}

function exit(target: TargetResult): string {
  const code = target.lastRun?.exitCode;
  return code === undefined || code === null ? '' : ` (exit code ${code})`;
}

type Totals = { tests: number; failures: number; errors: number; skipped: number; ms: number };

function count(targets: readonly TargetResult[]): Totals {
  const totals: Totals = { tests: targets.length, failures: 0, errors: 0, skipped: 0, ms: 0 };
  for (const t of targets) {
    if (t.status === 'failed' || t.status === 'budget_exhausted') totals.failures++;
    else if (t.status === 'error') totals.errors++;
    else if (t.status === 'cancelled' || t.status === 'skipped') totals.skipped++;
    totals.ms += t.durationMs;
  }
  return totals;
}

function counts(t: Totals): string {
  return `tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" skipped="${t.skipped}"`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** The end of a long output, where test runners print the failures and the summary. */
function tail(output: string, max: number): string {
  return output.length <= max
    ? output
    : `[… ${output.length - max} characters cut]\n${output.slice(-max)}`;
}

// ANSI escape sequences (colours, cursor moves) that test runners print to terminals.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;
// Characters XML 1.0 cannot hold at all, even escaped: most C0 controls, lone surrogates, U+FFFE/F.
const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters XML forbids
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Element text: markup escaped, forbidden characters replaced by U+FFFD. */
export function xmlText(value: string): string {
  return value
    .replace(ANSI, '')
    .replace(NOT_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A quoted attribute value; newlines and tabs kept as character references. */
export function attr(value: string): string {
  const escaped = xmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
  return `"${escaped}"`;
}

const text = xmlText;
