import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { decodeSegment } from '@tern/shared/session/segment-codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

let stack: Stack;
let collector: Collector;

beforeAll(async () => {
  stack = await startStack({ workers: 2 });
  collector = await connectCollector(stack.gatewayUrl);
});

afterAll(async () => {
  collector?.close();
  await stack?.stop();
});

async function newSession(files: Record<string, string>) {
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, { title: 'e2e', files });
  expect(created.status).toBe(201);
  return created.body.session.id as string;
}

describe('one turn across api, redis, worker, model, blob store and gateway', () => {
  it('streams a tool-using turn to socket.io clients and stores it as the transcript', async () => {
    const id = await newSession({ 'README.md': 'Tern e2e workspace\nline two' });
    const detail = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    const ack = await collector.subscribe(id, detail.body.lastEventId);
    expect(ack).toMatchObject({ ok: true });

    const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, {
      text: 'Please read README.md',
    });
    expect(posted.status).toBe(202);
    const turnId = posted.body.turnId as string;
    await collector.waitFor((all) => finishedTurns(all).includes(turnId));

    const mine = collector.envelopes.filter((e) => e.sessionId === id).map((e) => e.event);
    const types = mine.map((e) => e.type);
    expect(types[0]).toBe('turn_started');
    expect(types.at(-1)).toBe('turn_finished');
    const deltas = mine.flatMap((e) => (e.type === 'text_delta' ? [e.text] : []));
    expect(deltas.length).toBeGreaterThan(3);

    const streamed = mine.flatMap((e) => (e.type === 'entry' ? [e.entry] : []));
    expect(streamed.map((e) => e.kind)).toEqual([
      'user_message',
      'assistant_message',
      'tool_started',
      'tool_finished',
      'assistant_message',
    ]);
    const [, call, , result, answer] = streamed as [
      LogEntry,
      Extract<LogEntry, { kind: 'assistant_message' }>,
      LogEntry,
      Extract<LogEntry, { kind: 'tool_finished' }>,
      Extract<LogEntry, { kind: 'assistant_message' }>,
    ];
    expect(call.toolCalls).toEqual([
      { id: expect.any(String), name: 'read_file', args: { path: 'README.md' } },
    ]);
    expect(result).toMatchObject({
      name: 'read_file',
      ok: true,
      output: 'Tern e2e workspace\nline two',
    });
    expect(answer.text).toContain('Tern e2e workspace');
    expect(answer.finishReason).toBe('stop');
    // The deltas of the final answer are exactly its committed text.
    const lastStart = mine.findLastIndex(
      (e) => e.type === 'entry' && e.entry.kind === 'tool_finished',
    );
    const finalDeltas = mine
      .slice(lastStart)
      .flatMap((e) => (e.type === 'text_delta' ? [e.text] : []))
      .join('');
    expect(finalDeltas).toBe(answer.text);

    // Event ids are strictly increasing: the relay preserves order.
    const ids = collector.envelopes.filter((e) => e.sessionId === id).map((e) => e.id);
    expect([...ids].sort(compareIds)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);

    const transcript = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    expect(transcript.status).toBe(200);
    expect(transcript.body.entries).toEqual(streamed);
    expect(transcript.body.session).toMatchObject({ status: 'idle', lastSeq: 5, inputs: 1 });
    expect(transcript.body.pending).toEqual([]);

    // The blob store holds the same entries, one immutable segment per committed step.
    const dir = join(stack.dataDir, 'blobs', 'sessions', id, 'segments');
    const segments = readdirSync(dir).sort();
    expect(segments).toHaveLength(5);
    // Decoding checks each segment's checksum trailer and that its name matches its seqs.
    const stored = segments.flatMap((name) =>
      decodeSegment(`sessions/${id}/segments/${name}`, readFileSync(join(dir, name))),
    );
    expect(stored).toEqual(streamed);
  });

  it('answers two quickly sent messages in order, one turn after the other', async () => {
    const id = await newSession({});
    await collector.subscribe(id, '0-0');
    const [first, second] = await Promise.all([
      http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text: 'first message' }),
      http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text: 'second message' }),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    const turns = [first.body, second.body].sort((a, b) => a.inputSeq - b.inputSeq);
    await collector.waitFor((all) => turns.every((t) => finishedTurns(all).includes(t.turnId)));

    const events = collector.envelopes.filter((e) => e.sessionId === id).map((e) => e.event);
    const boundaries = events.flatMap((e) =>
      e.type === 'turn_started' || e.type === 'turn_finished' ? [`${e.type}:${e.turnId}`] : [],
    );
    expect(boundaries).toEqual([
      `turn_started:${turns[0].turnId}`,
      `turn_finished:${turns[0].turnId}`,
      `turn_started:${turns[1].turnId}`,
      `turn_finished:${turns[1].turnId}`,
    ]);
    const transcript = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    const users = transcript.body.entries.filter((e: LogEntry) => e.kind === 'user_message');
    expect(users.map((e: { inputSeq: number }) => e.inputSeq)).toEqual([1, 2]);
    const answers = transcript.body.entries.filter((e: LogEntry) => e.kind === 'assistant_message');
    const firstText = answers[0].text as string;
    expect(firstText).toContain('first message');
    expect(answers[1].text).toContain('second message');
  });

  it('moves a session between providers mid-way, translating its history', async () => {
    const id = await newSession({ 'README.md': 'Handoff notes\nmore' });
    const turn = async (text: string) => {
      const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text });
      await collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId));
    };
    await collector.subscribe(id, '0-0');
    await turn('Please read README.md');
    for (const model of ['anthropic:claude-sonnet-4-5', 'gemini:gemini-2.5-flash']) {
      const patched = await http('PATCH', `${stack.apiUrl}/v1/sessions/${id}`, { model });
      expect(patched.body.session.model).toBe(model);
      await turn('Please read README.md');
    }
    const transcript = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    const entries = transcript.body.entries as LogEntry[];
    expect(entries.filter((e) => e.kind === 'model_changed').map((e) => [e.from, e.to])).toEqual([
      ['openai-compatible:tern-sim', 'anthropic:claude-sonnet-4-5'],
      ['anthropic:claude-sonnet-4-5', 'gemini:gemini-2.5-flash'],
    ]);
    const answers = entries.filter(
      (e): e is Extract<LogEntry, { kind: 'assistant_message' }> =>
        e.kind === 'assistant_message' && e.toolCalls.length === 0,
    );
    expect(answers.map((a) => a.model)).toEqual([
      'openai-compatible:tern-sim',
      'anthropic:claude-sonnet-4-5',
      'gemini:gemini-2.5-flash',
    ]);
    for (const answer of answers) expect(answer.text).toContain('Handoff notes');
    expect(entries.some((e) => e.kind === 'error')).toBe(false);
  });

  it('runs a scripted scenario: invalid tool arguments never reach the tool', async () => {
    const scenario = {
      steps: [
        { toolCalls: [{ name: 'read_file', arguments: { path: 42 } }] },
        { text: 'I passed a number as the path; sorry.' },
      ],
    };
    const put = await http('PUT', `${stack.simUrl}/sim/scenarios/bad-args`, scenario);
    expect(put.status).toBeLessThan(300);
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      sim: { scenario: 'bad-args' },
    });
    const id = created.body.session.id as string;
    await collector.subscribe(id, '0-0');
    const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text: 'go' });
    await collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId));
    const transcript = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    const result = (transcript.body.entries as LogEntry[]).find((e) => e.kind === 'tool_finished');
    expect(result).toMatchObject({
      ok: false,
      output: expect.stringContaining('/path must be string'),
    });
    expect(transcript.body.entries.at(-1)).toMatchObject({
      kind: 'assistant_message',
      text: 'I passed a number as the path; sorry.',
    });
  });

  it('retries a rate-limited model and records the error when it persists', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
      sim: { fault: 'rate_limit' },
    });
    const id = created.body.session.id as string;
    await collector.subscribe(id, '0-0');
    const posted = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, { text: 'hi' });
    await collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId), 30_000);
    const events = collector.envelopes.filter((e) => e.sessionId === id).map((e) => e.event);
    const retries = events.filter((e) => e.type === 'model_retry');
    expect(retries.map((e) => e.type === 'model_retry' && [e.attempt, e.delayMs, e.code])).toEqual([
      [1, 1000, 'rate_limited'],
      [2, 1000, 'rate_limited'],
      [3, 1000, 'rate_limited'],
    ]);
    const transcript = await http('GET', `${stack.apiUrl}/v1/sessions/${id}`);
    expect(transcript.body.entries.at(-1)).toMatchObject({ kind: 'error', code: 'rate_limited' });
    expect(transcript.body.session.status).toBe('idle');
  });

  it('lists sessions newest first with paging', async () => {
    const a = await newSession({});
    const b = await newSession({});
    const page = await http('GET', `${stack.apiUrl}/v1/sessions?limit=1`);
    expect(page.status).toBe(200);
    expect(page.body.sessions.map((s: { id: string }) => s.id)).toEqual([b]);
    const next = await http(
      'GET',
      `${stack.apiUrl}/v1/sessions?limit=1&cursor=${page.body.nextCursor}`,
    );
    expect(next.body.sessions.map((s: { id: string }) => s.id)).toEqual([a]);
  });

  it('returns the first turn again for a retried POST with the same clientMessageId', async () => {
    const id = await newSession({});
    const body = { text: 'only once', clientMessageId: 'client-1' };
    const one = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, body);
    const two = await http('POST', `${stack.apiUrl}/v1/sessions/${id}/messages`, body);
    expect(one.body).toMatchObject({ inputSeq: 1, duplicate: false });
    expect(two.body).toEqual({ ...one.body, duplicate: true });
  });
});

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : Number(am - bm);
}
