import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { finishedTurns } from '../helpers/event-collector.ts';
import { http } from '../helpers/http.ts';
import { useStack } from '../helpers/use-stack.ts';
import { type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts';

// One turn's trace, collected over OTLP/HTTP from the api and worker processes: the API's
// enqueue span, the worker's turn under it (the context travels in the job data), and under the
// turn its model calls (GenAI attributes), tool call, commits and publishes.

const receiver = await startOtlpReceiver();
const handle = useStack({
  env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' },
});
afterAll(() => receiver.close());

const SPAN_KIND = { internal: 1, client: 3, producer: 4, consumer: 5 };

async function runTurn(text: string, headers: Record<string, string> = {}) {
  const { stack, collector } = handle;
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {
    files: { 'README.md': 'traced workspace' },
  });
  const sessionId = created.body.session.id as string;
  await collector.subscribe(sessionId, '0-0');
  const posted = await http(
    'POST',
    `${stack.apiUrl}/v1/sessions/${sessionId}/messages`,
    { text },
    headers,
  );
  expect(posted.status).toBe(202);
  const turnId = posted.body.turnId as string;
  await collector.waitFor((all) => finishedTurns(all).includes(turnId));
  return { sessionId, turnId };
}

/** The spans of the trace whose turn span carries `turnId`, once its last publish arrived. */
async function traceOf(turnId: string): Promise<ReceivedSpan[]> {
  let traceId = '';
  await receiver.waitFor((spans) => {
    const turn = spans.find((s) => s.attributes['tern.turn.id'] === turnId);
    if (!turn) return false;
    traceId = turn.traceId;
    const mine = spans.filter((s) => s.traceId === traceId);
    return (
      mine.some((s) => s.name.startsWith('enqueue')) &&
      mine.filter((s) => s.name.startsWith('chat')).length >= 2 &&
      mine.some((s) => s.name === 'publish' && s.attributes['tern.events'] !== undefined)
    );
  });
  return receiver.spans.filter((s) => s.traceId === traceId);
}

describe('a turn traced across the api and worker processes', () => {
  it('nests model calls, the tool call, commits and publishes under the worker turn, under the API enqueue', async () => {
    const { sessionId, turnId } = await runTurn('Please read README.md');
    const spans = await traceOf(turnId);
    const named = (prefix: string) => spans.filter((s) => s.name.startsWith(prefix));

    const [enqueue, ...otherEnqueues] = named('enqueue');
    expect(otherEnqueues).toEqual([]);
    expect(enqueue).toMatchObject({
      service: 'tern-api',
      name: 'enqueue tern-turns',
      kind: SPAN_KIND.producer,
      parentSpanId: '',
      attributes: {
        'messaging.destination.name': 'tern-turns',
        'gen_ai.conversation.id': sessionId,
      },
    });

    const [turn, ...otherTurns] = named('invoke_agent');
    expect(otherTurns).toEqual([]);
    expect(turn).toMatchObject({
      service: 'tern-worker',
      kind: SPAN_KIND.consumer,
      parentSpanId: enqueue!.spanId,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'tern',
        'gen_ai.conversation.id': sessionId,
        'tern.turn.id': turnId,
        'tern.turn.outcome': 'stop',
        'tern.turn.steps': 2,
      },
    });

    const chats = named('chat ').sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(chat).toMatchObject({
        service: 'tern-worker',
        name: 'chat tern-sim',
        kind: SPAN_KIND.client,
        parentSpanId: turn!.spanId,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai-compatible',
          'gen_ai.system': 'openai-compatible',
          'gen_ai.request.model': 'tern-sim',
          'gen_ai.conversation.id': sessionId,
        },
      });
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
      expect(chat.events.map((e) => e.name)).toContain('first_output');
    }
    expect(chats[0]!.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    expect(chats[1]!.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);

    const [tool, ...otherTools] = named('execute_tool');
    expect(otherTools).toEqual([]);
    expect(tool).toMatchObject({
      name: 'execute_tool read_file',
      parentSpanId: turn!.spanId,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'read_file',
        'tern.tool.ok': true,
      },
    });
    // The tool ran on the first call's answer and its result went into the second call.
    expect(tool!.startNs).toBeGreaterThanOrEqual(chats[0]!.endNs);
    expect(chats[1]!.startNs).toBeGreaterThanOrEqual(tool!.endNs);

    // user message, answer, tool_started, tool_finished, final answer
    const commits = named('commit');
    expect(commits.length).toBeGreaterThanOrEqual(5);
    for (const commit of commits) expect(commit.parentSpanId).toBe(turn!.spanId);
    expect(commits.some((c) => c.attributes['tern.commit.final'] === true)).toBe(true);
    const publishes = named('publish');
    expect(publishes.length).toBeGreaterThan(0);
    for (const publish of publishes) {
      expect(publish).toMatchObject({ parentSpanId: turn!.spanId, kind: SPAN_KIND.producer });
      expect(publish.attributes['tern.publish.outcome']).toBe('ok');
    }
    // Every span of the turn lies within it.
    for (const span of [...chats, tool!, ...commits]) {
      expect(span.startNs).toBeGreaterThanOrEqual(turn!.startNs);
      expect(span.endNs).toBeLessThanOrEqual(turn!.endNs);
    }
    // The worker's log lines of this turn name the same trace.
    const workerLog = readFileSync(
      handle.stack.processes.find((p) => p.name === 'worker-1')!.logFile,
      'utf8',
    );
    const finished = workerLog
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'turn finished' && l.turnId === turnId);
    expect(finished).toMatchObject({ sessionId, turnId, traceId: turn!.traceId });
  });

  it("continues a caller's trace when the request carries a traceparent", async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const { turnId } = await runTurn('Please read README.md', {
      traceparent: `00-${traceId}-${parentId}-01`,
    });
    const spans = await traceOf(turnId);
    const enqueue = spans.find((s) => s.name.startsWith('enqueue'));
    expect(enqueue).toMatchObject({ traceId, parentSpanId: parentId });
    expect(spans.find((s) => s.name.startsWith('invoke_agent'))?.traceId).toBe(traceId);
  });

  it("continues each input's own trace when one job's worker drains the next input too", async () => {
    const { stack, collector } = handle;
    const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {});
    const sessionId = created.body.session.id as string;
    await collector.subscribe(sessionId, '0-0');
    // Sent back to back: the second job finds the session's lease held by the first job's
    // worker, which runs the second input as well, from the first job.
    const posts = await Promise.all(
      ['first message', 'second message', 'third message'].map((text) =>
        http('POST', `${stack.apiUrl}/v1/sessions/${sessionId}/messages`, { text }),
      ),
    );
    const turnIds = posts.map((p) => p.body.turnId as string);
    await collector.waitFor((all) => turnIds.every((t) => finishedTurns(all).includes(t)));
    await receiver.waitFor((spans) =>
      turnIds.every((t) => spans.some((s) => s.attributes['tern.turn.id'] === t)),
    );
    const traces = new Set<string>();
    for (const [i, turnId] of turnIds.entries()) {
      const turn = receiver.spans.find((s) => s.attributes['tern.turn.id'] === turnId)!;
      const enqueue = receiver.spans.find((s) => s.spanId === turn.parentSpanId);
      expect(enqueue, turnId).toMatchObject({
        name: 'enqueue tern-turns',
        traceId: turn.traceId,
        attributes: { 'tern.input.seq': i + 1, 'gen_ai.conversation.id': sessionId },
      });
      traces.add(turn.traceId);
    }
    expect(traces.size).toBe(3);
  });

  it('starts a trace of its own for a malformed traceparent', async () => {
    const { turnId } = await runTurn('hello', { traceparent: 'not-a-trace' });
    await receiver.waitFor((spans) => spans.some((s) => s.attributes['tern.turn.id'] === turnId));
    const turn = receiver.spans.find((s) => s.attributes['tern.turn.id'] === turnId)!;
    const enqueue = receiver.spans.find((s) => s.spanId === turn.parentSpanId);
    expect(enqueue).toMatchObject({ name: 'enqueue tern-turns', parentSpanId: '' });
    expect(turn.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
