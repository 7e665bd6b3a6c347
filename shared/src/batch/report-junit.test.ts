import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sampleResult } from './report-fixtures.ts';
import { attr, writeJunitReport, xmlText } from './report-junit.ts';

const python = spawnSync('python3', ['--version']).status === 0;

describe('writeJunitReport', () => {
  const xml = writeJunitReport(sampleResult());

  it('has one suite per file and one case per target, with the totals', () => {
    expect(xml).toContain(
      '<testsuites name="tern batch tests for calc" tests="5" failures="2" errors="1" skipped="1" time="61.725">',
    );
    expect(xml).toContain(
      '<testsuite name="src/math.ts" tests="2" failures="1" errors="0" skipped="0" time="24.690"',
    );
    expect(xml).toContain('<testcase name="add" classname="src/math.ts" time="12.345">');
    expect(xml).toContain('<testcase name="src/strings.ts" classname="src/strings.ts"');
    expect(xml).toContain('<property name="tern.model" value="openai-compatible:qwen3-coder"/>');
  });

  it('turns statuses into failures, errors and skips, with the last run’s output escaped', () => {
    expect(xml).toContain(
      '<failure message="the tests still fail (exit code 1)" type="failed">AssertionError: expected &lt;Infinity&gt; &amp; "NaN" to be \'0\'\uFFFD\uFFFD</failure>',
    );
    expect(xml).toContain(
      '<failure message="the budget ran out before the tests passed" type="budget_exhausted">',
    );
    expect(xml).toContain('<error message="the model &lt;server&gt; failed" type="model_error">');
    expect(xml).toContain('<skipped message="skipped"/>');
    // Colours are stripped, not escaped into noise.
    expect(xml).toContain('✓ 1 passed');
    expect(xml).not.toContain('\u001b');
    expect(xml).toContain(
      'tern: test files src/math.add.test.ts; 1200 input and 340 output tokens',
    );
  });

  it.skipIf(!python)('is well-formed XML that a JUnit reader can count', () => {
    const script = `import sys, xml.etree.ElementTree as E
root = E.fromstring(sys.stdin.read())
cases = root.findall('.//testcase')
print(len(cases), len(root.findall('.//failure')), len(root.findall('.//error')), len(root.findall('.//skipped')))`;
    const parsed = spawnSync('python3', ['-c', script], { input: xml, encoding: 'utf8' });
    expect(parsed.stderr).toBe('');
    expect(parsed.stdout.trim()).toBe('5 2 1 1');
  });
});

describe('XML escaping', () => {
  it('escapes markup, quotes and whitespace in attributes, and replaces what XML cannot hold', () => {
    expect(xmlText('a < b && c > "d"')).toBe('a &lt; b &amp;&amp; c &gt; "d"');
    expect(attr(`it's "x"\n\ty`)).toBe('"it&apos;s &quot;x&quot;&#10;&#9;y"');
    expect(xmlText('bell\u0007 nul\u0000 lone\uD800 pair😀 \uFFFE')).toBe(
      'bell\uFFFD nul\uFFFD lone\uFFFD pair😀 \uFFFD',
    );
    expect(xmlText('\u001b[1;31mred\u001b[0m')).toBe('red');
  });
});
