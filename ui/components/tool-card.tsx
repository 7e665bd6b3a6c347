'use client';

import { useState } from 'react';
import { formatDuration, summarizeArgs } from '../lib/format';
import type { ToolItem, ToolStatus } from '../lib/transcript-state';

const COLLAPSED_LINES = 6;
const COLLAPSED_CHARS = 800;

const STATUS_LABEL: Record<ToolStatus, string> = {
  pending: 'preparing',
  running: 'running',
  ok: 'ok',
  error: 'error',
};

function collapse(output: string): { text: string; lines: number; truncated: boolean } {
  const lines = output.split('\n');
  let text = lines.slice(0, COLLAPSED_LINES).join('\n');
  if (text.length > COLLAPSED_CHARS) text = `${text.slice(0, COLLAPSED_CHARS)}…`;
  return { text, lines: lines.length, truncated: text !== output };
}

export function ToolCard({ item }: { item: ToolItem }) {
  const [expanded, setExpanded] = useState(false);
  const [showArgs, setShowArgs] = useState(false);
  const argsSummary = item.args ? summarizeArgs(item.args) : item.argsText;
  const collapsed = item.output === null ? null : collapse(item.output);

  return (
    <div
      className={`tool-card tool-card--${item.status}`}
      data-testid="tool-card"
      data-tool-name={item.name}
      data-status={item.status}
      data-call-id={item.callId}
    >
      <div className="tool-card__head">
        <span className="tool-card__dot" aria-hidden="true" />
        <span className="tool-card__name">{item.name}</span>
        <button
          type="button"
          className="tool-card__args"
          title={showArgs ? 'Hide arguments' : 'Show arguments'}
          onClick={() => setShowArgs((v) => !v)}
        >
          {argsSummary || '—'}
        </button>
        <span className="tool-card__status" data-testid="tool-status">
          {STATUS_LABEL[item.status]}
        </span>
        {item.durationMs !== null ? (
          <span className="tool-card__duration">{formatDuration(item.durationMs)}</span>
        ) : null}
      </div>
      {showArgs ? (
        <pre className="tool-card__json">
          {item.args ? JSON.stringify(item.args, null, 2) : item.argsText}
        </pre>
      ) : null}
      {collapsed && item.output !== null ? (
        <>
          <pre className="tool-card__output" data-testid="tool-output">
            {expanded ? item.output : collapsed.text}
          </pre>
          {collapsed.truncated ? (
            <button
              type="button"
              className="tool-card__expand"
              onClick={() => setExpanded((v) => !v)}
            >
              {expanded ? 'Collapse' : `Show all (${collapsed.lines} lines)`}
            </button>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
