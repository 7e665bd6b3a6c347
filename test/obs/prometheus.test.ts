import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { workerOpsUrl } from '../helpers/stack.ts';
import { useStack } from '../helpers/use-stack.ts';
import { PROMETHEUS, startPrometheus, type TestPrometheus } from './prometheus-server.ts';

// A real Prometheus scrapes the api, the gateway and a worker while they run turns of every kind
// (a tool call, a plain answer, a provider that keeps refusing, a sandboxed command that overruns);
// the series it stored are then checked against the sessions' own logs.

const repoRoot = resolve(import.meta.dirname, '../..');
const noPrometheus = !existsSync(PROMETHEUS);
if (noPrometheus) {
  console.warn(`prometheus.test: skipped, ${PROMETHEUS} is missing (apt-get install prometheus)`);
}
let handle: ReturnType<typeof useStack>;
let prom: TestPrometheus;

const hostOf = (url: string) => new URL(url).host;

type Turn = { sessionId: string; turnId: string };

async function turn(text: string, session: Record<string, unknown> = {}): Promise<Turn> {
  const { stack, collector } = handle;
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, session);
  expect(created.status).toBe(201);
  const sessionId = created.body.session.id as string;
  await collector.subscribe(sessionId, '0-0');
  const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${sessionId}/messages`, { text });
  expect(posted.status).toBe(202);
  return { sessionId, turnId: posted.body.turnId as string };
}

/** Whether the worker offers `bash` (its start-up probe found a usable sandbox). */
function sandboxed(): boolean {
  const worker = handle.stack.processes.find((p) => p.name === 'worker-1');
  return (
    worker !== undefined && /"sandbox":"(bwrap|unsafe)"/.test(readFileSync(worker.logFile, 'utf8'))
  );
}

describe.skipIf(noPrometheus)(
  'Prometheus scraping api, gateway and worker during real turns',
  () => {
    handle = useStack({ workers: 1 });
    beforeAll(async () => {
      const { stack } = handle;
      const worker = stack.processes.find((p) => p.name === 'worker-1');
      if (!worker) throw new Error('the stack has no worker');
      prom = await startPrometheus(
        {
          api: [hostOf(stack.apiUrl)],
          gateway: [hostOf(stack.gatewayUrl)],
          worker: [hostOf(workerOpsUrl(worker))],
        },
        [join(repoRoot, 'infra/prometheus/alerts.yml')],
      );
    }, 60_000);
    afterAll(async () => {
      await prom?.stop();
    });

    const turns: Turn[] = [];
    const entries: LogEntry[] = [];
    let killsExpected = 0;

    beforeAll(async () => {
      const { stack, collector } = handle;
      const put = await http('PUT', `${stack.simUrl}/sim/scenarios/obs-overrun`, {
        steps: [
          { toolCalls: [{ name: 'bash', arguments: { command: 'sleep 30', timeout_ms: 1000 } }] },
          { text: 'The command ran out of time.' },
        ],
      });
      expect(put.status).toBeLessThan(300);
      turns.push(
        await turn('Please read README.md', { files: { 'README.md': 'metrics are plausible' } }),
        await turn('hello there'),
        await turn('hi', { sim: { fault: 'rate_limit' } }),
      );
      if (sandboxed()) {
        turns.push(await turn('run it', { sim: { scenario: 'obs-overrun' } }));
        killsExpected = 1;
      } else {
        console.warn(
          'prometheus.test: the worker has no sandbox here, so sandbox kills go unchecked',
        );
      }
      await collector.waitFor(
        (all) => turns.every((t) => finishedTurns(all).includes(t.turnId)),
        60_000,
      );
      for (const t of turns) {
        const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${t.sessionId}`);
        entries.push(...(detail.body.entries as LogEntry[]));
      }
      // Everything the turns did is in the worker's registry once the last turn finished; wait
      // for the scrape that carries it.
      await prom.until('sum(tern_turns_total)', (v) => v === turns.length);
    }, 120_000);

    const answers = () =>
      entries.filter(
        (e): e is Extract<LogEntry, { kind: 'assistant_message' }> =>
          e.kind === 'assistant_message',
      );

    it('scrapes all three processes, each with its process metrics', async () => {
      for (const job of ['api', 'gateway', 'worker']) {
        // A scrape that overran its one-second timeout on a busy machine reads 0 for a moment.
        expect(await prom.until(`up{job="${job}"}`, (v) => v === 1), job).toBe(1);
        expect(
          await prom.value(`tern_process_cpu_user_seconds_total{job="${job}"}`),
          job,
        ).toBeGreaterThan(0);
      }
    });

    it('counts each turn and each model call the logs hold, with their outcomes', async () => {
      expect(await prom.value('sum(tern_turns_total{outcome="stop"})')).toBe(turns.length - 1);
      expect(await prom.value('sum(tern_turns_total{outcome="error"})')).toBe(1);
      expect(await prom.value('sum(tern_model_calls_total{outcome="ok"})')).toBe(answers().length);
      expect(await prom.value('sum(tern_model_calls_total{outcome="error"})')).toBe(1);
      expect(
        await prom.value(
          'sum(tern_model_errors_total{provider="openai-compatible",kind="rate_limited"})',
        ),
      ).toBe(1);
      expect(await prom.value('sum(tern_model_retries_total{kind="rate_limited"})')).toBe(3);
      const steps = await prom.value('sum(tern_turn_steps_sum)');
      expect(steps).toBe(answers().length + 1);
    });

    it('records time to first token and call durations for every answered call', async () => {
      expect(await prom.value('sum(tern_model_ttft_seconds_count)')).toBe(
        answers().filter((a) => a.ttftMs !== undefined).length,
      );
      expect(await prom.value('sum(tern_model_ttft_seconds_sum)')).toBeGreaterThan(0);
      expect(await prom.value('sum(tern_model_call_duration_seconds_count)')).toBe(
        answers().length,
      );
      const ttft = (await prom.value('sum(tern_model_ttft_seconds_sum)')) ?? 0;
      const duration = (await prom.value('sum(tern_model_call_duration_seconds_sum)')) ?? 0;
      expect(duration).toBeGreaterThanOrEqual(ttft);
    });

    it('sums tokens exactly as the committed answers report them', async () => {
      const sum = (k: 'input' | 'output') => answers().reduce((n, a) => n + a.usage[k], 0);
      expect(await prom.value('sum(tern_model_tokens_total{type="input"})')).toBe(sum('input'));
      expect(await prom.value('sum(tern_model_tokens_total{type="output"})')).toBe(sum('output'));
    });

    it('counts tool calls by tool and outcome, and the sandbox kill of an overrun', async () => {
      expect(await prom.value('sum(tern_tool_calls_total{tool="read_file",outcome="ok"})')).toBe(1);
      expect(await prom.value('sum(tern_tool_duration_seconds_count{tool="read_file"})')).toBe(1);
      if (killsExpected > 0) {
        expect(await prom.value('sum(tern_tool_calls_total{tool="bash",outcome="error"})')).toBe(1);
        expect(await prom.value('sum(tern_sandbox_kills_total{reason="timeout"})')).toBe(1);
      }
    });

    it('measures commits, whose count and bytes match the stats the API reports', async () => {
      let commits = 0;
      let bytes = 0;
      for (const t of turns) {
        const stats = await http('GET', `${handle.stack.apiUrl}/v1/sessions/${t.sessionId}/stats`);
        expect(stats.status).toBe(200);
        commits += stats.body.checkpoints.commits;
        bytes += stats.body.log.bytes;
      }
      expect(await prom.value('sum(tern_commit_duration_seconds_count{result="committed"})')).toBe(
        commits,
      );
      expect(await prom.value('sum(tern_commit_bytes_sum)')).toBe(bytes);
      expect(
        await prom.value('sum(tern_lease_acquisitions_total{result="acquired"})'),
      ).toBeGreaterThanOrEqual(turns.length);
      expect(await prom.value('sum(tern_fencing_rejections_total)')).toBeUndefined();
    });

    it('samples the queue from the API and the relay from the gateway', async () => {
      expect(
        await prom.until('max(tern_queue_workers{queue="tern-turns"})', (v) => v !== undefined),
      ).toBeGreaterThanOrEqual(1);
      expect(await prom.value('max(tern_queue_jobs{queue="tern-turns",state="waiting"})')).toBe(0);
      expect(await prom.value('max(tern_queue_oldest_waiting_seconds{queue="tern-turns"})')).toBe(
        0,
      );
      expect(
        await prom.value('sum(tern_queue_wait_seconds_count{queue="tern-turns"})'),
      ).toBeGreaterThanOrEqual(turns.length);
      expect(await prom.value('tern_gateway_connected_clients')).toBe(1);
      expect(await prom.value('tern_gateway_watched_sessions')).toBe(turns.length);
      expect(
        await prom.until('tern_gateway_relay_lag_seconds_count', (v) => (v ?? 0) > 0),
      ).toBeGreaterThan(0);
      expect(
        await prom.value(
          'sum(tern_http_requests_total{route="/v1/sessions/:id/messages",method="POST",status="2xx"})',
        ),
      ).toBe(turns.length);
    });

    it('never uses a session, turn or user id as a label value', async () => {
      const series = await prom.query('{__name__=~"tern_.+"}');
      expect(series.length).toBeGreaterThan(50);
      const ids = [...turns.flatMap((t) => [t.sessionId, t.turnId]), handle.stack.token];
      for (const s of series) {
        for (const [label, value] of Object.entries(s.metric)) {
          expect(value, `${s.metric.__name__}{${label}}`).not.toContain('ses_');
          for (const id of ids) expect(value).not.toContain(id);
        }
      }
    });

    it('loads the alert rules, which evaluate cleanly and stay quiet', async () => {
      const res = await fetch(`${prom.url}/api/v1/rules`);
      const body = (await res.json()) as {
        data: {
          groups: {
            rules: { name: string; health: string; lastError?: string; state: string }[];
          }[];
        };
      };
      const rules = body.data.groups.flatMap((g) => g.rules);
      expect(rules.map((r) => r.name).sort()).toEqual([
        'TernNoWorkers',
        'TernProcessDown',
        'TernProviderErrorRate',
        'TernQueueWaitHigh',
        'TernRelayLagHigh',
        'TernStalledLeases',
      ]);
      for (const rule of rules) {
        expect(rule.health, `${rule.name}: ${rule.lastError}`).toBe('ok');
        expect(rule.state, rule.name).not.toBe('firing');
      }
    });

    it('answers every query of the Grafana dashboards', async () => {
      const dir = join(repoRoot, 'infra/grafana/dashboards');
      const exprs: string[] = [];
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
          panels: { targets?: { expr: string }[] }[];
        };
        for (const panel of dashboard.panels)
          exprs.push(...(panel.targets ?? []).map((t) => t.expr));
      }
      expect(exprs.length).toBeGreaterThan(20);
      // rate() needs two samples of a series in its window: a fast run can reach this point one
      // scrape after the turns' series first appeared.
      await prom.until('min(count_over_time(tern_turns_total[1m]))', (v) => (v ?? 0) >= 3);
      let withData = 0;
      for (const expr of exprs) {
        const samples = await prom.query(expr.replaceAll('$__rate_interval', '1m'));
        if (samples.length > 0) withData += 1;
      }
      // Most panels show something after these turns (cooldowns and takeovers need incidents).
      expect(withData / exprs.length).toBeGreaterThan(0.7);
    });
  },
);
