import type { SessionStats, StatsEdge, StatsNode, TurnStats } from '../protocol/session-stats.ts';
import type { LogEntry, Usage } from './log-entry.ts';

type Derived = Pick<SessionStats, 'totals' | 'tools' | 'turns' | 'graph'>;

type ToolNode = Extract<StatsNode, { kind: 'tool_call' }>;

const zero = (): Usage => ({ input: 0, output: 0, cached: 0, reasoning: 0, costUsd: 0 });

function add(into: Usage, usage: Usage): void {
  into.input += usage.input;
  into.output += usage.output;
  into.cached += usage.cached;
  into.reasoning += usage.reasoning;
  into.costUsd += usage.costUsd;
}

/**
 * A session's work as a graph, per-turn figures and totals, derived from its log alone (the
 * log is the truth; nothing else is consulted). `lastTurns` bounds the graph and the turn list;
 * totals always cover every entry.
 */
export function sessionStatsFromLog(entries: readonly LogEntry[], lastTurns: number): Derived {
  const nodes: StatsNode[] = [];
  const edges: StatsEdge[] = [];
  const turns = new Map<string, TurnStats & { last?: LogEntry }>();
  const tools = new Map<string, { name: string; calls: number; errors: number; totalMs: number }>();
  const calls = new Map<string, ToolNode>();
  const total = zero();
  let modelCalls = 0;
  let toolCalls = 0;
  let toolErrors = 0;
  /** What the next model call follows, with how it led there. */
  let sources: { id: string; kind: StatsEdge['kind'] }[] = [];
  let currentTurn = '';

  for (const entry of entries) {
    if (entry.turnId !== currentTurn) {
      currentTurn = entry.turnId;
      sources = [];
    }
    let turn = turns.get(entry.turnId);
    if (!turn) {
      turn = {
        turnId: entry.turnId,
        startedAt: entry.at,
        endedAt: entry.at,
        outcome: 'running',
        modelCalls: 0,
        toolCalls: 0,
        usage: zero(),
      };
      turns.set(entry.turnId, turn);
    }
    turn.endedAt = Math.max(turn.endedAt, entry.at);
    turn.last = entry;
    switch (entry.kind) {
      case 'user_message': {
        const id = `in:${entry.seq}`;
        nodes.push({
          id,
          kind: 'input',
          turnId: entry.turnId,
          seq: entry.seq,
          at: entry.at,
          steer: entry.steer === true,
        });
        sources.push({ id, kind: 'prompted' });
        break;
      }
      case 'assistant_message': {
        const id = `m:${entry.seq}`;
        nodes.push({
          id,
          kind: 'model_call',
          turnId: entry.turnId,
          seq: entry.seq,
          model: entry.model,
          startedAt: entry.at - (entry.durationMs ?? 0),
          ...(entry.durationMs === undefined ? {} : { durationMs: entry.durationMs }),
          ...(entry.ttftMs === undefined ? {} : { ttftMs: entry.ttftMs }),
          finishReason: entry.finishReason,
          usage: entry.usage,
        });
        for (const source of sources) edges.push({ from: source.id, to: id, kind: source.kind });
        sources = [];
        entry.toolCalls.forEach((call, i) => {
          const node: ToolNode = {
            id: `t:${entry.seq}.${i}`,
            kind: 'tool_call',
            turnId: entry.turnId,
            callId: call.id,
            name: call.name,
            status: 'pending',
          };
          nodes.push(node);
          calls.set(`${entry.turnId}\u0000${call.id}`, node);
          edges.push({ from: id, to: node.id, kind: 'called' });
          sources.push({ id: node.id, kind: 'fed' });
        });
        if (entry.toolCalls.length === 0) sources.push({ id, kind: 'continued' });
        modelCalls += 1;
        turn.modelCalls += 1;
        // The message is committed while the first call streams; the call may have started first.
        turn.startedAt = Math.min(turn.startedAt, entry.at - (entry.durationMs ?? 0));
        add(total, entry.usage);
        add(turn.usage, entry.usage);
        break;
      }
      case 'tool_started': {
        const node = calls.get(`${entry.turnId}\u0000${entry.callId}`);
        if (node) node.startedAt = entry.at;
        break;
      }
      case 'tool_finished': {
        const node = calls.get(`${entry.turnId}\u0000${entry.callId}`);
        if (node) {
          node.status = entry.notRun ? 'not_run' : entry.ok ? 'ok' : 'error';
          if (entry.notRun) node.notRun = entry.notRun;
          else node.durationMs = entry.durationMs;
          node.startedAt ??= entry.at - entry.durationMs;
        }
        const failed = !entry.ok && !entry.notRun;
        const byName = tools.get(entry.name) ?? {
          name: entry.name,
          calls: 0,
          errors: 0,
          totalMs: 0,
        };
        byName.calls += 1;
        byName.errors += failed ? 1 : 0;
        byName.totalMs += entry.notRun ? 0 : entry.durationMs;
        tools.set(entry.name, byName);
        toolCalls += 1;
        toolErrors += failed ? 1 : 0;
        turn.toolCalls += 1;
        break;
      }
      case 'compaction':
        if (entry.usage) {
          add(total, entry.usage);
          add(turn.usage, entry.usage);
        }
        break;
      default:
        break;
    }
  }

  const turnList = [...turns.values()].map(({ last, ...turn }) => ({
    ...turn,
    ...outcomeOf(last),
  }));
  const kept = turnList.slice(-lastTurns);
  const keptIds = new Set(kept.map((t) => t.turnId));
  const keptNodes = nodes.filter((n) => keptIds.has(n.turnId));
  const nodeIds = new Set(keptNodes.map((n) => n.id));
  return {
    totals: { turns: turnList.length, modelCalls, toolCalls, toolErrors, usage: total },
    tools: [...tools.values()].sort((a, b) => b.calls - a.calls || a.name.localeCompare(b.name)),
    turns: kept,
    graph: {
      nodes: keptNodes,
      edges: edges.filter((e) => nodeIds.has(e.from) && nodeIds.has(e.to)),
    },
  };
}

/** How a turn stands, from its last entry. */
function outcomeOf(last: LogEntry | undefined): Pick<TurnStats, 'outcome' | 'code'> {
  switch (last?.kind) {
    case 'error':
      return { outcome: 'error', code: last.code };
    case 'interrupted':
      return { outcome: 'cancelled' };
    case 'assistant_message':
      return { outcome: last.toolCalls.length === 0 ? 'done' : 'running' };
    // A decision would have been logged after the request.
    case 'approval_requested':
      return { outcome: 'awaiting_approval' };
    default:
      return { outcome: 'running' };
  }
}
