import type { SandboxResult } from './sandbox/sandbox-types.ts';

/**
 * How a sandboxed command's result reads to the model: one status line saying how it ended, then
 * stdout and stderr. A long stream keeps its head and its tail, because build and test tools
 * print the part that matters (the error, the summary) at the end.
 */
export function formatBashResult(
  result: SandboxResult,
  limits: { wallMs: number; outputBytes: number },
  streamBudget: number,
): string {
  const parts = [statusLine(result, limits.wallMs)];
  for (const note of result.notes) parts.push(`[${note}]`);
  if (result.truncated) {
    parts.push(
      `[output cut at ${limits.outputBytes} bytes: by then stdout had ${result.bytes.stdout} ` +
        `and stderr ${result.bytes.stderr} bytes]`,
    );
  }
  const stdout = headAndTail(result.stdout, streamBudget);
  const stderr = headAndTail(result.stderr, streamBudget);
  if (stdout !== '') parts.push(`--- stdout ---\n${stdout}`);
  if (stderr !== '') parts.push(`--- stderr ---\n${stderr}`);
  if (stdout === '' && stderr === '') parts.push('(no output)');
  return parts.join('\n');
}

function statusLine(result: SandboxResult, wallMs: number): string {
  switch (result.end) {
    case 'exit':
      return `Exit code ${result.exitCode}.`;
    case 'signal':
      return `Killed by ${result.signal ?? 'a signal'} (exit status ${result.exitCode}).`;
    case 'timeout':
      return `Stopped: the command ran past its ${wallMs} ms time limit; it and every process it started were killed.`;
    case 'cancelled':
      return 'Stopped: the call was cancelled; the command and every process it started were killed.';
    case 'output_limit':
      return 'Stopped: the command wrote more output than allowed and was killed.';
    case 'memory':
      return `Stopped: the memory limit was reached and the kernel killed a process (exit status ${result.exitCode}).`;
    case 'cpu':
      return `Stopped: a process used up its CPU time limit (exit status ${result.exitCode}).`;
  }
}

function headAndTail(text: string, budget: number): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= budget) return text;
  const buffer = Buffer.from(text);
  const head = Math.floor(budget / 4);
  const tail = budget - head;
  const dropped = bytes - head - tail;
  return (
    `${buffer.subarray(0, head).toString('utf8')}\n[… ${dropped} bytes omitted …]\n` +
    buffer.subarray(bytes - tail).toString('utf8')
  );
}
