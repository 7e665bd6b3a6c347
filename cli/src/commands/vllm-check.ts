import { parseArgs } from 'node:util';
import { runVllmChecks, type VllmCheckReport } from '../vllm/vllm-checks.ts';
import type { CheckResult } from '../vllm/vllm-collect.ts';

export const vllmCheckUsage = `tern vllm check <url> [--model NAME] [--api-key KEY] [--timeout SECONDS] [--json]

Checks a running vLLM server the way Tern uses it: the model is listed, a completion streams, a
tool call makes a real round trip through Tern's LLM layer, and /metrics has the gauges batch jobs
adapt to. Each failure says what to change on the server. Exits 0 only if every check passes.
<url> is the server's root (http://gpu:8000) or its OpenAI base URL (http://gpu:8000/v1).`;

const LABELS: Record<CheckResult['name'], string> = {
  models: 'models',
  completion: 'completion',
  tool_calling: 'tool calling',
  metrics: 'metrics',
};

/** `tern vllm check …`: the exit code is 0 when every check passed, 1 when one failed, 2 on usage. */
export async function vllmCheckCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      'api-key': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [url, ...extra] = positionals;
  const timeout = values.timeout === undefined ? 120 : Number(values.timeout);
  if (url === undefined || extra.length > 0 || !isHttpUrl(url) || !(timeout > 0)) {
    process.stderr.write(`${vllmCheckUsage}\n`);
    return 2;
  }
  const report = await runVllmChecks({
    url,
    ...(values.model === undefined ? {} : { model: values.model }),
    ...(values['api-key'] === undefined ? {} : { apiKey: values['api-key'] }),
    timeoutMs: timeout * 1000,
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.results.every((r) => r.status === 'ok') ? 0 : 1;
}

export function formatReport(report: VllmCheckReport): string {
  const width = Math.max(...Object.values(LABELS).map((l) => l.length));
  const lines = [`tern vllm check ${report.url}${report.model ? ` (model ${report.model})` : ''}`];
  for (const result of report.results) {
    const status = result.status === 'ok' ? 'ok  ' : result.status === 'fail' ? 'FAIL' : 'skip';
    lines.push(`  ${status}  ${LABELS[result.name].padEnd(width)}  ${result.summary}`);
    if (result.diagnosis) lines.push(`        ${' '.repeat(width)}  → ${result.diagnosis}`);
  }
  const passed = report.results.filter((r) => r.status === 'ok').length;
  lines.push(`${passed} of ${report.results.length} checks passed`);
  return `${lines.join('\n')}\n`;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
