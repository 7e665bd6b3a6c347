import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';
import { stopProcess } from '../helpers/stack.ts';

export const PROMETHEUS = '/usr/bin/prometheus';

export type PromSample = { metric: Record<string, string>; value: [number, string] };

export type TestPrometheus = {
  url: string;
  /** An instant query; throws on a query error (bad PromQL, unknown function). */
  query(expr: string): Promise<PromSample[]>;
  /** The single value of a query that yields one sample (a `sum(...)`), or undefined. */
  value(expr: string): Promise<number | undefined>;
  /** Polls `value(expr)` until `accept` holds; returns the last value. */
  until(
    expr: string,
    accept: (v: number | undefined) => boolean,
    timeoutMs?: number,
  ): Promise<number | undefined>;
  log(): string;
  stop(): Promise<void>;
};

/**
 * A real Prometheus on a free port scraping `targets` (job name → host:port) every second, with
 * the given rule files loaded. Its TSDB lives in a temporary folder removed on stop.
 */
export async function startPrometheus(
  targets: Record<string, string[]>,
  ruleFiles: string[] = [],
): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-prometheus-'));
  const port = await freePort();
  const jobs = Object.entries(targets)
    .map(
      ([job, hosts]) =>
        `  - job_name: ${job}\n    static_configs:\n      - targets: [${hosts.map((h) => `'${h}'`).join(', ')}]`,
    )
    .join('\n');
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    ...ruleFiles.map((f) => `  - '${f}'`),
    'scrape_configs:',
    jobs,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const logFile = join(dir, 'prometheus.log');
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited:\n${readLog()}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus never got ready:\n${readLog()}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const query = async (expr: string): Promise<PromSample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: PromSample[] };
    };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data?.resultType === 'vector' ? (body.data.result ?? []) : [];
  };
  const value = async (expr: string) => {
    const samples = await query(expr);
    if (samples.length > 1) throw new Error(`query ${expr} gave ${samples.length} samples`);
    const raw = samples[0]?.value[1];
    return raw === undefined ? undefined : Number(raw);
  };
  return {
    url,
    query,
    value,
    async until(expr, accept, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      let last: number | undefined;
      while (Date.now() < end) {
        last = await value(expr);
        if (accept(last)) return last;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`${expr} never satisfied the test; last value ${last}`);
    },
    log: readLog,
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
