import { openAiChatAdapter } from '@tern/shared/llm/openai-chat/openai-chat-adapter';
import { chatCompatProfiles } from '@tern/shared/llm/openai-chat/openai-chat-compat';
import { driveStream } from '@tern/shared/llm/stream-driver';
import type { SessionEvent } from '@tern/shared/protocol/events';
import type { LogEntry, NewLogEntry } from '@tern/shared/session/log-entry';
import { type Collector, connectCollector } from '../test/helpers/event-collector.ts';
import { http } from '../test/helpers/http.ts';
import { type Stack, startStack } from '../test/helpers/stack.ts';
import { runTurn } from '../worker/src/agent/run-turn.ts';
import { ms, summarize, table } from './stats.ts';

type Sample = { firstToken: number; done: number };

/** Turns per session: enough samples for a p99 at one session, 500 turns in all at fifty. */
const turnsFor = (sessions: number) => (sessions === 1 ? 200 : 10);

/**
 * POST /messages → first token at a socket.io client, and → turn finished, through separate api,
 * gateway and worker processes, beside the floor: the same agent loop called in-process against the
 * same simulator.
 */
export async function run(): Promise<void> {
  const stack = await startStack({
    workers: 2,
    env: { WORKER_CONCURRENCY: '64' },
  });
  try {
    const rows: string[][] = [];
    // Warm up connections, JIT and caches on both paths.
    await floor(stack, 1, 20);
    await cluster(stack, 5, 4);
    for (const concurrency of [1, 50]) {
      const f = await floor(stack, concurrency, turnsFor(concurrency));
      const c = await cluster(stack, concurrency, turnsFor(concurrency));
      const row = (name: string, s: Sample[]) => {
        const first = summarize(s.map((x) => x.firstToken));
        const done = summarize(s.map((x) => x.done));
        return [
          name,
          String(concurrency),
          String(first.n),
          ms(first.median),
          ms(first.p99),
          ms(done.median),
          ms(done.p99),
        ];
      };
      rows.push(row('in-process loop (floor)', f), row('tern: api→redis→worker→gateway', c));
    }
    console.log(
      table(['path', 'sessions', 'turns', 'first token p50', 'p99', 'turn done p50', 'p99'], rows),
    );
    console.log(
      '\nSimulator at zero latency; 1 api, 1 gateway, 2 worker processes (WORKER_CONCURRENCY=64), own redis-server; 2-core machine.',
    );
  } finally {
    await stack.stop();
  }
}

async function floor(stack: Stack, concurrency: number, turns: number): Promise<Sample[]> {
  const stream = driveStream(
    openAiChatAdapter({
      provider: 'openai-compatible',
      apiKey: 'bench',
      baseURL: `${stack.simUrl}/v1`,
      compat: chatCompatProfiles.vllm,
    }),
  );
  const samples: Sample[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      let seq = 0;
      const history: LogEntry[] = [];
      for (let t = 1; t <= turns; t++) {
        const start = performance.now();
        let firstToken = 0;
        await runTurn(
          {
            stream,
            tools: new Map(),
            now: () => performance.now(),
            emit: (e: SessionEvent) => {
              if (e.type === 'text_delta' && firstToken === 0)
                firstToken = performance.now() - start;
            },
            async commit(entries: NewLogEntry[]) {
              const stamped = entries.map(
                (e) => ({ ...e, seq: ++seq, turnId: `t${t}`, epoch: 1, at: 0 }) as LogEntry,
              );
              history.push(...stamped);
              return stamped;
            },
          },
          {
            sessionId: 's',
            turnId: `t${t}`,
            inputSeq: t,
            text: `hello number ${t}`,
            model: 'tern-sim',
            modelRef: 'openai-compatible:tern-sim',
            systemPrompt: '',
            history: [...history],
            maxSteps: 5,
          },
        );
        samples.push({ firstToken, done: performance.now() - start });
      }
    }),
  );
  return samples;
}

async function cluster(stack: Stack, concurrency: number, turns: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {});
      const id = created.body.session.id as string;
      const collector: Collector = await connectCollector(stack.gatewayUrl);
      await collector.subscribe(id, '0-0');
      try {
        for (let t = 1; t <= turns; t++) {
          const before = collector.envelopes.length;
          const start = performance.now();
          let firstToken = 0;
          let turnId = '';
          const posted = http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, {
            text: `hello number ${t}`,
          });
          await collector.waitFor((all) => {
            for (let i = before; i < all.length; i++) {
              const e = all[i]!.event;
              if (e.type === 'text_delta' && firstToken === 0)
                firstToken = performance.now() - start;
              if (e.type === 'turn_finished') {
                turnId = e.turnId;
                return true;
              }
            }
            return false;
          }, 30_000);
          samples.push({ firstToken, done: performance.now() - start });
          if ((await posted).body.turnId !== turnId) throw new Error('events of another turn');
        }
      } finally {
        collector.close();
      }
    }),
  );
  return samples;
}
