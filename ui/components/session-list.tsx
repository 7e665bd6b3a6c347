'use client';

import type { SessionSummary } from '@tern/shared/protocol/api';
import { formatRelativeTime } from '../lib/format';

export function SessionList({
  sessions,
  selectedId,
  hasMore,
  emptyText,
  onSelect,
  onLoadMore,
}: {
  sessions: SessionSummary[];
  selectedId: string | null;
  hasMore: boolean;
  /** What an empty list says (loading, unavailable or truly empty). */
  emptyText: string;
  onSelect: (id: string) => void;
  onLoadMore: () => void;
}) {
  return (
    <nav className="session-list" aria-label="Sessions">
      {sessions.length === 0 && emptyText ? (
        <div className="session-list__empty">{emptyText}</div>
      ) : null}
      <ul>
        {sessions.map((session) => (
          <li key={session.id}>
            <button
              type="button"
              className="session-item"
              data-testid="session-item"
              data-session-id={session.id}
              data-status={session.status}
              aria-current={session.id === selectedId ? 'page' : undefined}
              onClick={() => onSelect(session.id)}
            >
              <span className="session-item__title">
                <span className={`status-dot status-dot--${session.status}`} />
                {session.title || session.id}
              </span>
              <span className="session-item__meta">
                {session.model} · {formatRelativeTime(session.updatedAt)}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {hasMore ? (
        <button
          type="button"
          className="button button--ghost session-list__more"
          onClick={onLoadMore}
        >
          Load more
        </button>
      ) : null}
    </nav>
  );
}
