import { type CallResult, type Client, openAiClients, type Workload } from './llm-clients.ts';
import { anthropicClients } from './llm-clients-anthropic.ts';
import { geminiClients } from './llm-clients-gemini.ts';
import { cpuOnly } from './llm-cpu-only.ts';
import { ternStreams } from './llm-tern-streams.ts';
import { startSimProcess } from './sim-process.ts';
import { summarize, table } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 400);
const WARMUP = 40;

const workloads: Workload[] = [
  { name: 'text, 300 chunks', prompt: 'Give me a long answer please', withTool: false },
  { name: 'tool call', prompt: 'Please read README.md', withTool: true },
];

/**
 * Per-call cost of each client on the same simulated streams, calls interleaved round-robin so
 * that drift on the machine hits every client alike. The figure that matters is the difference to
 * the raw SDK: everything else (HTTP, the simulator) is common to all.
 */
export async function run(): Promise<void> {
  const sim = await startSimProcess();
  try {
    const groups: { provider: string; clients: Client[] }[] = [
      { provider: 'openai-compatible', clients: openAiClients(sim.url) },
      { provider: 'anthropic', clients: anthropicClients(sim.url) },
      { provider: 'gemini', clients: geminiClients(sim.url) },
    ];
    const rows: string[][] = [];
    for (const { provider, clients } of groups) {
      for (const workload of workloads) {
        const samples = await measure(clients, workload);
        const raw = summarize(samples.get(clients[0]!.name)!);
        for (const client of clients) {
          const s = summarize(samples.get(client.name)!);
          rows.push([
            provider,
            workload.name,
            client.name,
            s.median.toFixed(3),
            s.p99.toFixed(3),
            client === clients[0] ? '' : signed(s.median - raw.median),
            client === clients[0] ? '' : signed(s.p99 - raw.p99),
          ]);
        }
      }
    }
    console.log(
      table(
        ['provider', 'stream', 'client', 'median ms', 'p99 ms', 'Δ median vs raw', 'Δ p99 vs raw'],
        rows,
      ),
    );
    console.log(
      `\n${ROUNDS} calls per client and stream, interleaved; simulator in its own process at zero latency.`,
    );
    console.log(
      '\nAbort: AbortSignal fired during a hung call → the stream’s `aborted` finish (target ≤ 50 ms)',
    );
    console.log(table(['provider', 'median ms', 'max ms'], await abortLatency(sim.url)));
    console.log(
      '\nCPU only: the same captured chunks replayed in-process, no network (Tern’s own cost per call)',
    );
    console.log(
      table(
        ['provider', 'stream', 'events', 'raw SDK loop µs', 'tern µs', 'Δ µs per call'],
        await cpuOnly(sim.url),
      ),
    );
  } finally {
    sim.stop();
  }
}

/** Time from `abort()` to the stream's terminal `aborted` event, per provider (target ≤ 50 ms). */
async function abortLatency(url: string): Promise<string[][]> {
  const rows: string[][] = [];
  for (const { name, stream, model } of ternStreams(url)) {
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const controller = new AbortController();
      let abortedAt = 0;
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort();
      }, 20);
      for await (const e of stream({
        model,
        maxTokens: 1024,
        messages: [{ role: 'user', content: 'hello' }],
        signal: controller.signal,
        headers: { 'x-tern-sim-fault': 'hang' },
      })) {
        if (e.type === 'finish') {
          if (e.reason !== 'aborted') throw new Error(`${name}: ${e.reason}`);
          samples.push(performance.now() - abortedAt);
        }
      }
    }
    const s = summarize(samples);
    rows.push([name, s.median.toFixed(3), Math.max(...samples).toFixed(3)]);
  }
  return rows;
}

async function measure(clients: Client[], workload: Workload): Promise<Map<string, number[]>> {
  const samples = new Map(clients.map((c) => [c.name, [] as number[]]));
  const expected = await clients[0]!.call(workload);
  for (const client of clients) {
    const got = await client.call(workload);
    if (!same(got, expected)) {
      throw new Error(
        `${client.name} produced different output for "${workload.name}": ${JSON.stringify(got)}`,
      );
    }
  }
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    // Rotate the order each round so no client always runs first (or right after another).
    for (let k = 0; k < clients.length; k++) {
      const client = clients[(i + k) % clients.length]!;
      const start = performance.now();
      await client.call(workload);
      const elapsed = performance.now() - start;
      if (i >= WARMUP) samples.get(client.name)!.push(elapsed);
    }
  }
  return samples;
}

function same(a: CallResult, b: CallResult): boolean {
  if (a.text !== b.text) return false;
  if (a.toolArgs === b.toolArgs) return true;
  try {
    return JSON.stringify(JSON.parse(a.toolArgs)) === JSON.stringify(JSON.parse(b.toolArgs));
  } catch {
    return false;
  }
}

const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)} ms`;
