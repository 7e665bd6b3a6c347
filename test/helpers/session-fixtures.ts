import type { LogEntry } from '@tern/shared/session/log-entry';
import type { Lease, SessionStore } from '@tern/shared/session/session-store';

const words =
  'the worker reads the file and answers with a short plan before it edits anything'.split(' ');

/** Deterministic filler text of about `length` characters. */
export function prose(length: number, salt = 0): string {
  let out = '';
  for (let i = salt; out.length < length; i++) out += `${words[i % words.length]} `;
  return out.slice(0, length);
}

/**
 * One realistic turn as the worker commits it, one array per commit (five commits): the user's
 * message, the model's answer with one tool call, `tool_started`, `tool_finished` with a file's
 * worth of output, and the final answer. About 4 KB of JSON.
 */
export function turnCommits(turn: number, firstSeq: number, epoch = 1): LogEntry[][] {
  const turnId = `ses_fixture-t${turn}`;
  const at = 1_700_000_000_000 + turn * 1000;
  let seq = firstSeq;
  const base = () => ({ seq: seq++, turnId, epoch, at });
  const callId = `call_${turn}`;
  const usage = { input: 1200 + turn, output: 180, cached: 800, reasoning: 0, costUsd: 0.0012 };
  return [
    [{ ...base(), kind: 'user_message', text: prose(220, turn), inputSeq: turn }],
    [
      {
        ...base(),
        kind: 'assistant_message',
        model: 'openai-compatible:tern-sim',
        text: prose(160, turn + 1),
        reasoning: '',
        toolCalls: [
          { id: callId, name: 'read_file', args: { path: `src/module-${turn % 40}.ts` } },
        ],
        finishReason: 'tool_calls',
        usage,
        ttftMs: 240,
        durationMs: 900,
      },
    ],
    [
      {
        ...base(),
        kind: 'tool_started',
        callId,
        name: 'read_file',
        args: { path: `src/module-${turn % 40}.ts` },
      },
    ],
    [
      {
        ...base(),
        kind: 'tool_finished',
        callId,
        name: 'read_file',
        ok: true,
        output: prose(1800, turn + 2),
        durationMs: 3,
      },
    ],
    [
      {
        ...base(),
        kind: 'assistant_message',
        model: 'openai-compatible:tern-sim',
        text: prose(900, turn + 3),
        reasoning: '',
        toolCalls: [],
        finishReason: 'stop',
        usage,
        ttftMs: 210,
        durationMs: 1500,
      },
    ],
  ];
}

/**
 * Appends `count` fixture turns to a session as a worker would: each input appended, then its five
 * commits under one lease, the last completing the input. Returns every entry written.
 */
export async function writeFixtureTurns(
  store: SessionStore,
  id: string,
  count: number,
  options: { onCommit?: (entries: LogEntry[], ms: number, turn: number) => void } = {},
): Promise<LogEntry[]> {
  const lease = await store.acquireLease(id, 'fixture-worker', 60_000);
  if (typeof lease !== 'object') throw new Error(`no lease on ${id}: ${lease}`);
  const written: LogEntry[] = [];
  try {
    let lastSeq = (await store.meta(id))?.lastSeq ?? 0;
    for (let t = 0; t < count; t++) {
      const appended = await store.appendInput(id, 'fixture input', undefined);
      const inputSeq = appended?.inputSeq ?? 0;
      const commits = turnCommits(inputSeq, lastSeq + 1, lease.epoch);
      for (const [i, entries] of commits.entries()) {
        const final = i === commits.length - 1;
        const started = performance.now();
        await commitOrThrow(store, lease, lastSeq, entries, final ? inputSeq : undefined);
        options.onCommit?.(entries, performance.now() - started, inputSeq);
        lastSeq += entries.length;
        written.push(...entries);
      }
    }
  } finally {
    await store.releaseLease(lease);
  }
  return written;
}

export async function commitOrThrow(
  store: SessionStore,
  lease: Lease,
  lastSeq: number,
  entries: LogEntry[],
  completes?: number,
): Promise<void> {
  const result = await store.commit(lease, lastSeq, entries, completes);
  if (result !== 'committed') throw new Error(`commit at seq ${lastSeq} was ${result}`);
}
