import { piAgentCore } from './agent-pi.ts';
import { tern } from './agent-tern.ts';
import type { AgentHarness } from './agent-work.ts';
import { summarize, table } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const WARMUP = 3;
const LONG_STEPS = 1000;
const LONG_RUNS = 5;
const WINDOW = 10;

/**
 * Tern's agent loop beside `@mariozechner/pi-agent-core` on the same work, in one process, with
 * in-memory no-op stores: (a) ten 100 ms tools in one response, (b) ten tool calls each behind a
 * 100 ms before-tool hook, (c) the loop's own cost per step early and late in a 1000-step turn.
 */
export async function run(): Promise<void> {
  const pi = piAgentCore();
  const harnesses: AgentHarness[] = [tern, pi];
  try {
    const rows: string[][] = [];
    const tools = await rounds(harnesses, (h) => h.toolsTurn(10, 100));
    const hooks = await rounds(harnesses, (h) => h.hooksTurn(10, 100));
    for (const [name, target, samples] of [
      ['(a) 10 tools × 100 ms, one response', '≤ 110 ms', tools],
      ['(b) 10 calls × 100 ms before-tool hook', '≤ 120 ms', hooks],
    ] as const) {
      for (const h of harnesses) {
        const s = summarize(samples.get(h.name)!);
        const max = Math.max(...samples.get(h.name)!);
        rows.push([name, h.name, s.median.toFixed(1), max.toFixed(1), h === tern ? target : '']);
      }
    }
    console.log(table(['work (whole turn)', 'harness', 'median ms', 'max ms', 'target'], rows));
    console.log(`\n${ROUNDS} turns each after ${WARMUP} warm-up turns, harnesses interleaved.`);

    const stepRows: string[][] = [];
    for (const h of harnesses) {
      const { early, late } = await perStep(h);
      const ratio = late / early;
      stepRows.push([
        h.name,
        (early * 1000).toFixed(1),
        (late * 1000).toFixed(1),
        ratio.toFixed(2),
        h === tern ? '≤ 100 µs, flat' : '',
      ]);
    }
    console.log(
      `\n(c) Loop cost per step, one ${LONG_STEPS}-step turn, zero-latency in-process model, no-op tool`,
    );
    console.log(
      table(
        [
          'harness',
          `steps 1–${WINDOW} µs`,
          `steps ${LONG_STEPS - WINDOW + 1}–${LONG_STEPS} µs`,
          'late/early',
          'target',
        ],
        stepRows,
      ),
    );
    console.log(
      `\nPer step: time between consecutive model calls (model answer, tool call, results, ` +
        `commits), mean over ${WINDOW} steps, median of ${LONG_RUNS} turns.`,
    );
  } finally {
    pi.dispose();
  }
}

async function rounds(
  harnesses: AgentHarness[],
  work: (h: AgentHarness) => Promise<void>,
): Promise<Map<string, number[]>> {
  const samples = new Map(harnesses.map((h) => [h.name, [] as number[]]));
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    for (let k = 0; k < harnesses.length; k++) {
      const h = harnesses[(i + k) % harnesses.length]!;
      const start = performance.now();
      await work(h);
      if (i >= WARMUP) samples.get(h.name)!.push(performance.now() - start);
    }
  }
  return samples;
}

/** Mean ms per step over the first and the last `WINDOW` steps, median over runs. */
async function perStep(h: AgentHarness): Promise<{ early: number; late: number }> {
  await h.longTurn(200);
  const early: number[] = [];
  const late: number[] = [];
  for (let run = 0; run < LONG_RUNS; run++) {
    const starts = await h.longTurn(LONG_STEPS);
    // starts[k] is when call k+1 began; step k+1 runs from starts[k] to starts[k+1].
    const mean = (from: number) => (starts[from + WINDOW]! - starts[from]!) / WINDOW;
    early.push(mean(0));
    late.push(mean(LONG_STEPS - WINDOW));
  }
  return { early: summarize(early).median, late: summarize(late).median };
}
