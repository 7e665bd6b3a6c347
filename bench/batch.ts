import type { BatchDetail, BatchSummary } from '@tern/shared/protocol/batch-api';
import { writeManyFunctionsRepo } from '../test/helpers/batch-repo.ts';
import { http } from '../test/helpers/http.ts';
import { type Stack, startStack, workerOpsUrl } from '../test/helpers/stack.ts';
import {
  type GpuModel,
  type GpuSample,
  type GpuSnapshot,
  gpuDelta,
  maxRequestsPerMin,
  readGpu,
  sampleGpu,
  serviceMs,
  stepsPerReply,
  ttftQuantileMs,
  ttftShareOver,
} from './batch-gpu.ts';
import { table } from './stats.ts';

/**
 * `npm run bench -- batch [--targets N]`: a batch of N targets (500 by default) through the full
 * stack (api, two workers, a dispatcher) against the vLLM simulator standing in for a GPU with 64
 * slots, once with `concurrency: auto`, once with a fixed 8 and once with a fixed 256. Each
 * target's agent is scripted and cheap (write a test, run `true` in the sandbox, answer), and the
 * simulated GPU is slow, so that the GPU, not Tern's CPU, bounds throughput on a small machine.
 *
 * Figures per run: targets per minute over the whole run; while the batch is in full swing
 * (from its first finished target until none is left queued), GPU utilisation (running slots
 * sampled from /metrics, over 64) and the rate the latency model delivers at those batch sizes;
 * how long requests waited for a slot (p50/p99, from the TTFT histogram with a TTFT of 0); and the
 * dispatcher's in-flight targets and limit from its own /metrics. The maximum comes from the
 * simulator's latency model with every slot busy, at the reply lengths measured in the same run.
 */

const GPU: GpuModel = { slots: 64, knee: 32, itlMs: 150, ttftMs: 0 };
const MODES: ReadonlyArray<'auto' | number> = ['auto', 8, 256];
/** Fixed 8 runs at an eighth of the GPU: a full 500 would take a quarter of an hour. */
const TIME_BOX_MS: Record<string, number> = { '8': 150_000 };
const SAFETY_BOX_MS = 30 * 60_000;
const SAMPLE_MS = 500;
/** Auto may let requests wait this share of one request's time at the full batch, at p99. */
const QUEUE_LIMIT_SHARE = 0.1;

type ModeResult = {
  mode: string;
  finished: number;
  total: number;
  wallMs: number;
  timeBoxed: boolean;
  overallPerMin: number;
  /** Running slots sampled while in full swing. */
  running: number[];
  meanWaiting: number;
  maxWaiting: number;
  /** The most targets the dispatcher had past its gate, and its limit each time it changed. */
  maxInFlight: number;
  limits: number[];
  queueP50Ms: number;
  queueP99Ms: number;
  gpu: GpuSnapshot;
};

export async function run(): Promise<void> {
  const targets = targetsArg() ?? 500;
  const repo = writeManyFunctionsRepo(targets);
  const started = performance.now();
  const stack = await startStack({
    workers: 2,
    dispatchers: 1,
    simEnv: {
      SIM_DIALECT: 'vllm',
      SIM_CONCURRENCY: String(GPU.slots),
      SIM_BATCH_KNEE: String(GPU.knee),
      SIM_TTFT_MS: String(GPU.ttftMs),
      SIM_ITL_MS: String(GPU.itlMs),
      // Each step ±30%, as real decoding varies: waves of targets started together drift apart.
      SIM_JITTER: '0.3',
    },
    env: {
      // Enough turn slots for the fixed 256, and no per-user cap: the batch is one user's.
      WORKER_CONCURRENCY: '160',
      USER_MAX_RUNNING_TURNS: '0',
      DISPATCHER_MAX_TARGETS: '256',
    },
  });
  try {
    await installScenario(stack.simUrl);
    const base64 = await repo.tarballBase64();
    console.log(
      `${targets} targets per run (one per exported function), 1 api, 2 workers, 1 dispatcher, own redis-server; ${navigator.hardwareConcurrency} cores. Simulated GPU: ${GPU.slots} slots, batch knee ${GPU.knee}, ITL ${GPU.itlMs} ms, TTFT ${GPU.ttftMs} ms.`,
    );
    const results: ModeResult[] = [];
    for (const mode of MODES) {
      const result = await runMode(stack, base64, mode, targets);
      results.push(result);
      console.log(
        `  ${result.mode}: ${result.finished}/${result.total} in ${(result.wallMs / 1000).toFixed(0)} s${result.timeBoxed ? ' (time-boxed)' : ''}`,
      );
    }
    report(results);
  } finally {
    await stack.stop();
    repo.remove();
  }
  console.log(`\nbatch bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

function targetsArg(): number | undefined {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === '--targets' || a.startsWith('--targets='));
  if (at === -1) return undefined;
  const raw = args[at]?.includes('=') ? args[at]?.split('=')[1] : args[at + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    throw new Error(`--targets takes a whole number from 1 to 10000, got ${raw}`);
  }
  return n;
}

/** Words a reply streams, one decoding step each: replies about as long as a terse model's. */
const words = (n: number, lead: string) =>
  `${lead} ${Array.from({ length: n }, (_, i) => `w${i}`).join(' ')}`;

/** Every target's agent: write a test, run a trivial command in the sandbox, answer. */
async function installScenario(simUrl: string): Promise<void> {
  const scenario = {
    steps: [
      {
        text: words(24, 'I will write a test for this function and run it.'),
        toolCalls: [
          {
            name: 'write_file',
            arguments: {
              path: 'src/generated.test.ts',
              content: "import { it } from 'vitest';\n\nit('runs', () => {});\n",
            },
          },
          { name: 'bash', arguments: { command: 'true' } },
        ],
      },
      { text: words(40, 'The test is written and passes.'), finish: 'stop' },
    ],
  };
  const res = await http('PUT', `${simUrl}/sim/scenarios/bench-target`, scenario);
  if (res.status !== 200) throw new Error(`scenario: ${res.status} ${JSON.stringify(res.body)}`);
}

async function runMode(
  stack: Stack,
  base64: string,
  concurrency: 'auto' | number,
  total: number,
): Promise<ModeResult> {
  const mode = concurrency === 'auto' ? 'auto' : `fixed ${concurrency}`;
  const box = TIME_BOX_MS[String(concurrency)] ?? SAFETY_BOX_MS;
  await waitForIdleGpu(stack.simUrl);
  const before = (await readGpu(stack.simUrl)).snapshot;
  const [dispatcher] = stack.dispatchers;
  const sampler = sampleGpu(
    stack.simUrl,
    SAMPLE_MS,
    dispatcher
      ? { opsUrl: workerOpsUrl(dispatcher), mode: concurrency === 'auto' ? 'adaptive' : 'fixed' }
      : undefined,
  );
  const created = await http('POST', `${stack.apiUrl}/v1/batches`, {
    title: `bench ${mode}`,
    source: { kind: 'tarball', base64 },
    targets: { globs: ['src/**/*.ts'], functions: true, maxTargets: 10_000 },
    framework: 'vitest',
    testCommand: 'true',
    concurrency,
    sim: { scenario: 'bench-target' },
  });
  if (created.status !== 201) {
    await sampler.stop();
    throw new Error(`POST /v1/batches: ${created.status} ${JSON.stringify(created.body)}`);
  }
  const summary = created.body.batch as BatchSummary;
  let timeBoxed = false;
  /** When the last queued target got past the gate (or the batch was cut short). */
  let queueEmptyAt: number | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    // The list's summaries are light; the detail of 500 targets is polled once, at the end.
    const listed = await http('GET', `${stack.apiUrl}/v1/batches?limit=10`);
    const now = (listed.body.batches as BatchSummary[]).find((b) => b.id === summary.id);
    if (!now) throw new Error(`${summary.id} is missing from the list`);
    if (queueEmptyAt === undefined && now.progress.queued === 0) queueEmptyAt = Date.now();
    if (now.status === 'done' || now.status === 'cancelled') break;
    if (!timeBoxed && Date.now() - summary.createdAt > box) {
      timeBoxed = true;
      queueEmptyAt ??= Date.now();
      await http('POST', `${stack.apiUrl}/v1/batches/${summary.id}/cancel`);
    }
  }
  const detail = (await http('GET', `${stack.apiUrl}/v1/batches/${summary.id}`))
    .body as BatchDetail;
  await sampler.stop();
  await waitForIdleGpu(stack.simUrl);
  const gpu = gpuDelta(before, (await readGpu(stack.simUrl)).snapshot);

  const finishes = detail.targets
    .filter((t) => t.status === 'passed' && t.finishedAt !== undefined)
    .map((t) => t.finishedAt ?? 0)
    .sort((a, b) => a - b);
  // In full swing: from the first target finished (the pipeline is full) until no target was
  // left queued (from then on the batch drains). A batch that dispatched everything before its
  // first target finished is measured over its finishes instead.
  const from = finishes[0] ?? summary.createdAt;
  const last = finishes.at(-1) ?? from;
  const to = queueEmptyAt !== undefined && queueEmptyAt > from + 1000 ? queueEmptyAt : last;
  const swing = sampler.samples.filter((s) => s.at >= from && s.at <= to);
  const inFlight = sampler.samples.flatMap((s) => (s.inFlight === undefined ? [] : [s.inFlight]));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    mode,
    finished: finishes.length,
    total,
    wallMs: (detail.finishedAt ?? Date.now()) - summary.createdAt,
    timeBoxed,
    overallPerMin: (finishes.length * 60_000) / Math.max(1, last - summary.createdAt),
    running: swing.map((s: GpuSample) => s.running),
    meanWaiting: mean(swing.map((s) => s.waiting)),
    maxWaiting: Math.max(0, ...sampler.samples.map((s) => s.waiting)),
    maxInFlight: Math.max(0, ...inFlight),
    limits: changes(sampler.samples.flatMap((s) => (s.limit && s.limit > 0 ? [s.limit] : []))),
    queueP50Ms: ttftQuantileMs(gpu, 0.5),
    queueP99Ms: ttftQuantileMs(gpu, 0.99),
    gpu,
  };
}

/** A series without its repeats: each value as it changed. */
function changes(values: readonly number[]): number[] {
  return values.filter((v, i) => i === 0 || v !== values[i - 1]);
}

async function waitForIdleGpu(simUrl: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { running, waiting } = await readGpu(simUrl);
    if (running === 0 && waiting === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the simulated GPU never went idle');
}

function report(results: readonly ModeResult[]): void {
  // Reply length and replies per target, measured over the runs that finished every target.
  const complete = results.filter((r) => !r.timeBoxed && r.finished === r.total);
  const replies = complete.reduce((n, r) => n + r.gpu.replies, 0);
  const gaps = complete.reduce((n, r) => n + r.gpu.gaps, 0);
  const targets = complete.reduce((n, r) => n + r.finished, 0);
  const steps = stepsPerReply({ ttftBuckets: [], replies, gaps });
  const repliesPerTarget = targets > 0 ? replies / targets : Number.NaN;
  const maxPerMin = maxRequestsPerMin(GPU, steps) / repliesPerTarget;
  const fullBatchMs = serviceMs(GPU, steps, GPU.slots);
  const queueLimitMs = QUEUE_LIMIT_SHARE * fullBatchMs;
  /** The GPU's delivered rate at a sampled batch size, as a share of its rate when full. */
  const modelShare = (running: number[]) => {
    const rate = (r: number) => (r > 0 ? r / serviceMs(GPU, steps, r) : 0);
    const full = rate(GPU.slots);
    return running.reduce((n, r) => n + rate(r), 0) / Math.max(1, running.length) / full;
  };
  console.log(
    `\nSimulator's maximum: ${steps.toFixed(1)} decoding steps per reply and ${repliesPerTarget.toFixed(2)} replies per target (measured), ${(fullBatchMs / 1000).toFixed(1)} s per reply with all ${GPU.slots} slots busy → ${maxPerMin.toFixed(1)} targets/min.`,
  );
  const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
  const secs = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '-');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log(
    `\n${table(
      [
        'concurrency',
        'targets',
        'wall',
        'targets/min',
        'of max',
        'GPU util',
        'GPU rate',
        'waiting',
        'queued',
        'queue p50',
        'queue p99',
        'in flight',
      ],
      results.map((r) => [
        r.mode,
        `${r.finished}/${r.total}${r.timeBoxed ? ' *' : ''}`,
        `${(r.wallMs / 1000).toFixed(0)} s`,
        r.overallPerMin.toFixed(1),
        pct(r.overallPerMin / maxPerMin),
        pct(mean(r.running) / GPU.slots),
        pct(modelShare(r.running)),
        `${r.meanWaiting.toFixed(1)} (max ${r.maxWaiting})`,
        pct(ttftShareOver(r.gpu, 0.01)),
        secs(r.queueP50Ms),
        secs(r.queueP99Ms),
        `max ${r.maxInFlight}${r.limits.length > 0 ? `, limit ${r.limits.at(-1)}` : ''}`,
      ]),
    )}`,
  );
  for (const r of results.filter((x) => x.timeBoxed)) {
    const box = TIME_BOX_MS[r.mode.replace('fixed ', '')] ?? SAFETY_BOX_MS;
    console.log(
      `* ${r.mode} was time-boxed: cancelled after ${(box / 1000).toFixed(0)} s with ${r.finished} of ${r.total} targets done; its figures are over that window.`,
    );
  }
  console.log(
    [
      'targets/min: targets finished over the whole run (ramp-up and tail included), and its share of the maximum.',
      `In full swing (from the first target finished until none was left queued): GPU util = mean vllm:num_requests_running / ${GPU.slots}; GPU rate = what the latency model delivers at those batch sizes, as a share of its rate with every slot busy (replies end in waves, so counting them over a window is noisier); waiting = mean vllm:num_requests_waiting (max over the run).`,
      'queued: replies that waited over 10 ms for a slot; queue: time to first token over the whole run (the TTFT is 0, so all of it is waiting for a slot), from the histogram (linear within buckets).',
      "in flight: the dispatcher's targets past its gate (tern_batch_targets_in_flight), most seen, and its last limit (tern_batch_concurrency_limit).",
      ...results
        .filter((r) => r.mode === 'auto' && r.limits.length > 0)
        .map(
          (r) =>
            `auto's limit as it changed: ${r.limits.slice(0, 16).join(' ')}${r.limits.length > 16 ? ` … ${r.limits.at(-1)}` : ''}`,
        ),
    ].join('\n'),
  );
  const auto = results.find((r) => r.mode === 'auto');
  if (!auto) return;
  // The whole run, ramp-up and tail included: what a user waits for, and the stricter figure.
  const share = auto.overallPerMin / maxPerMin;
  console.log(
    `\ntarget: auto's targets/min over the whole run ≥ 90% of the maximum: ${pct(share)} ${share >= 0.9 ? 'PASS' : 'FAIL'} (GPU rate ${pct(modelShare(auto.running))}); auto's queue time within its limit (p99 ≤ ${secs(queueLimitMs)}, a tenth of one reply at the full batch): p99 ${secs(auto.queueP99Ms)} ${auto.queueP99Ms <= queueLimitMs ? 'PASS' : 'FAIL'}`,
  );
}
