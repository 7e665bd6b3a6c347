import { loadConfig } from '@tern/shared/config/config';
import {
  type SessionStats,
  type StatsNode,
  sessionStatsSchema,
} from '@tern/shared/protocol/session-stats';
import { ApiClient, ApiError } from '../client/api-client.ts';
import { clientToken } from '../client/client-token.ts';

export type SessionStatsOptions = { turns?: number; json: boolean };

/** `tern session stats <id>`: what the session cost and did, turn by turn, call by call. */
export async function sessionStatsCommand(
  sessionId: string,
  options: SessionStatsOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const config = loadConfig();
  const host = config.TERN_HOST === '0.0.0.0' ? '127.0.0.1' : config.TERN_HOST;
  const api = new ApiClient(
    config.TERN_API_URL ?? `http://${host}:${config.API_PORT}`,
    clientToken(config),
  );
  const parsed = sessionStatsSchema.safeParse(await api.sessionStats(sessionId, options.turns));
  if (!parsed.success) {
    throw new ApiError(
      0,
      'bad_response',
      `the API answered stats this CLI cannot read: ${parsed.error.message}`,
    );
  }
  out.write(
    options.json ? `${JSON.stringify(parsed.data, null, 2)}\n` : formatSessionStats(parsed.data),
  );
  return 0;
}

type Usage = SessionStats['totals']['usage'];

const int = (n: number) => n.toLocaleString('en-US');
const usd = (n: number) => `$${n.toFixed(n >= 1 ? 2 : 4)}`;

function duration(ms: number | undefined): string {
  if (ms === undefined) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

const tokens = (u: Usage) =>
  `in ${int(u.input)} · out ${int(u.output)} · cached ${int(u.cached)} · reasoning ${int(u.reasoning)}`;

/** The stats as a terminal reads them: totals, tools, then each turn as a small call tree. */
export function formatSessionStats(stats: SessionStats): string {
  const { totals, log, checkpoints } = stats;
  const lines = [
    `session ${stats.sessionId}`,
    `  ${int(totals.turns)} turns · ${int(totals.modelCalls)} model calls · ${int(totals.toolCalls)} tool calls (${int(totals.toolErrors)} failed)`,
    `  tokens ${tokens(totals.usage)} · cost ${usd(totals.usage.costUsd)}`,
    `  log ${int(log.entries)} entries, ${bytes(log.bytes)} · checkpoints: ${int(checkpoints.commits)} commits, ${int(checkpoints.snapshots)} snapshot packs`,
  ];
  if (stats.tools.length > 0) {
    lines.push('', 'tools');
    const width = Math.max(...stats.tools.map((t) => t.name.length));
    for (const t of stats.tools) {
      lines.push(
        `  ${t.name.padEnd(width)}  ${int(t.calls)} calls  ${int(t.errors)} failed  ${duration(t.totalMs)} in all`,
      );
    }
  }
  const fedBy = new Map<string, number>();
  for (const edge of stats.graph.edges) {
    if (edge.kind === 'fed') fedBy.set(edge.to, (fedBy.get(edge.to) ?? 0) + 1);
  }
  if (stats.turns.length < totals.turns) {
    lines.push('', `turns (the last ${stats.turns.length} of ${totals.turns})`);
  } else {
    lines.push('', 'turns');
  }
  for (const turn of stats.turns) {
    const code = turn.code ? ` (${turn.code})` : '';
    lines.push(
      `  ${turn.turnId}  ${turn.outcome}${code}  ${duration(turn.endedAt - turn.startedAt)} · ${turn.modelCalls} model calls · ${turn.toolCalls} tool calls · ${usd(turn.usage.costUsd)}`,
    );
    for (const node of stats.graph.nodes) {
      if (node.turnId === turn.turnId) lines.push(nodeLine(node, fedBy.get(node.id) ?? 0));
    }
  }
  return `${lines.join('\n')}\n`;
}

function nodeLine(node: StatsNode, fed: number): string {
  switch (node.kind) {
    case 'input':
      return `    › ${node.steer ? 'steering' : 'message'} #${node.seq}`;
    case 'model_call': {
      const after = fed > 0 ? ` ← ${fed} tool result${fed === 1 ? '' : 's'}` : '';
      const ttft = node.ttftMs === undefined ? '' : `ttft ${duration(node.ttftMs)}, `;
      return `    ◆ #${node.seq} ${node.model}${after}: ${ttft}${duration(node.durationMs)}, ${node.finishReason}, in ${int(node.usage.input)} out ${int(node.usage.output)}, ${usd(node.usage.costUsd)}`;
    }
    case 'tool_call': {
      const status = node.notRun ? `not run (${node.notRun})` : node.status;
      const took = node.durationMs === undefined ? '' : ` ${duration(node.durationMs)}`;
      return `      ↳ ${node.name} ${status}${took}`;
    }
  }
}
