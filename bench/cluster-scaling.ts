import { readFileSync } from 'node:fs';
import { http } from '../test/helpers/http.ts';
import type { Stack } from '../test/helpers/stack.ts';
import { watchTurns } from './cluster-turn-watcher.ts';
import { table } from './stats.ts';

export const SCALING_CONCURRENCY = 8;
export const SCALING_TTFT_MS = 100;
const USERS = 4;
/** Enough sessions to keep 4 workers' slots busy with turns queued behind them. */
const SESSIONS = 64;
const WARMUP_MS = 1500;
const WINDOW_MS = 5000;

/**
 * Figure 4: turns per second with 1, 2 and 4 worker processes of the same concurrency, each turn
 * waiting a fixed simulated time to first token. Closed loop: every session sends its next
 * message when its last turn finished. CPU seconds per process role over the window say where
 * the machine's two cores went.
 */
export async function workerScaling(stack: Stack, counts: number[]): Promise<string> {
  const drivers = await Promise.all(
    Array.from({ length: USERS }, async (_, u) => {
      const token = await stack.addUser(`scale${u}`);
      return { token, watcher: await watchTurns(stack.gatewayUrl, token) };
    }),
  );
  const sessions = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, i) => {
      const driver = drivers[i % USERS]!;
      const auth = { authorization: `Bearer ${driver.token}` };
      const created = await http(
        'POST',
        `${stack.apiUrl}/v1/sessions`,
        { sim: { ttftMs: SCALING_TTFT_MS } },
        auth,
      );
      const id = created.body.session.id as string;
      await driver.watcher.subscribe(id);
      return { id, auth, watcher: driver.watcher, turns: 0 };
    }),
  );
  const redisPid = Number(/process_id:(\d+)/.exec(await stack.redis.client.info('server'))?.[1]);
  const rows: string[][] = [];
  let base = 0;
  try {
    for (const count of counts) {
      while (stack.processes.filter((p) => p.name.startsWith('worker')).length < count)
        await stack.addWorker();
      const end = performance.now() + WARMUP_MS + WINDOW_MS;
      const windowStart = performance.now() + WARMUP_MS;
      let finished = 0;
      let cpuBefore: Record<string, number> = {};
      const timer = setTimeout(() => {
        cpuBefore = cpuByRole(stack, redisPid);
      }, WARMUP_MS);
      await Promise.all(
        sessions.map(async (s) => {
          while (performance.now() < end) {
            const turnId = `${s.id}-t${++s.turns}`;
            const posted = await http(
              'POST',
              `${stack.apiUrl}/v1/sessions/${s.id}/messages`,
              { text: 'hello' },
              s.auth,
            );
            if (posted.status !== 202) throw new Error(`message refused: ${posted.status}`);
            await s.watcher.wait('turn_finished', turnId);
            const now = performance.now();
            if (now >= windowStart && now < end) finished++;
          }
        }),
      );
      clearTimeout(timer);
      const cpuAfter = cpuByRole(stack, redisPid);
      const perSec = finished / (WINDOW_MS / 1000);
      if (count === counts[0]) base = perSec;
      const cpu = Object.keys(cpuAfter)
        .map(
          (role) =>
            `${role} ${(((cpuAfter[role] ?? 0) - (cpuBefore[role] ?? 0)) / WINDOW_MS).toFixed(2)}`,
        )
        .join(', ');
      rows.push([
        String(count),
        perSec.toFixed(1),
        `${(perSec / base).toFixed(2)}x`,
        String(Math.min(SESSIONS, count * SCALING_CONCURRENCY) * (1000 / SCALING_TTFT_MS)),
        cpu,
      ]);
    }
  } finally {
    for (const d of drivers) d.watcher.close();
  }
  return [
    table(['workers', 'turns/s', 'vs 1', 'ideal turns/s', 'cores busy by role'], rows),
    `Each worker WORKER_CONCURRENCY=${SCALING_CONCURRENCY}; simulated time to first token ${SCALING_TTFT_MS} ms; ${SESSIONS} sessions of ${USERS} users in a closed loop; ${WINDOW_MS / 1000} s window after ${WARMUP_MS / 1000} s warm-up. "ideal" is slots / ttft. Cores busy = CPU seconds per second of each role over the window (2 cores in all); "bench" is this process (HTTP clients and socket.io clients).`,
  ].join('\n');
}

/** CPU time (ms) used so far by each role's processes, Redis and this process. */
function cpuByRole(stack: Stack, redisPid: number): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (role: string, pid: number | undefined) => {
    if (pid === undefined || Number.isNaN(pid)) return;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After the command name (which may hold spaces), utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[role] = (out[role] ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // the process is gone
    }
  };
  for (const p of stack.processes) add(p.name.replace(/-\d+$/, ''), p.child.pid);
  add('redis', redisPid);
  add('bench', process.pid);
  return out;
}
