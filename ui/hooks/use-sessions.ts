'use client';

import type { SessionSummary } from '@tern/shared/protocol/api';
import { useCallback, useEffect, useState } from 'react';
import { type ApiClient, type ApiError, toApiError } from '../lib/api-client';

export type SessionsList = {
  sessions: SessionSummary[];
  nextCursor: string | null;
  loading: boolean;
  error: ApiError | null;
  refresh(): Promise<void>;
  loadMore(): Promise<void>;
  create(): Promise<SessionSummary>;
  /** Merges a fresher summary (e.g. a status seen on the live feed) into the list. */
  update(session: SessionSummary): void;
};

export function useSessions(api: ApiClient | null): SessionsList {
  const [sessions, setSessions] = useState<SessionSummary[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const refresh = useCallback(async () => {
    if (!api) return;
    setLoading(true);
    try {
      const page = await api.listSessions({ limit: 50 });
      setSessions(page.sessions);
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setLoading(false);
    }
  }, [api]);

  const loadMore = useCallback(async () => {
    if (!api || !nextCursor) return;
    try {
      const page = await api.listSessions({ limit: 50, cursor: nextCursor });
      setSessions((prev) => {
        const known = new Set(prev.map((s) => s.id));
        return [...prev, ...page.sessions.filter((s) => !known.has(s.id))];
      });
      setNextCursor(page.nextCursor);
    } catch (e) {
      setError(toApiError(e));
    }
  }, [api, nextCursor]);

  const create = useCallback(async () => {
    if (!api) throw toApiError(new Error('The API address is not known yet'));
    const session = await api.createSession({});
    setSessions((prev) => [session, ...prev.filter((s) => s.id !== session.id)]);
    return session;
  }, [api]);

  const update = useCallback((session: SessionSummary) => {
    setSessions((prev) => {
      const index = prev.findIndex((s) => s.id === session.id);
      if (index < 0) return prev;
      const current = prev[index]!;
      if (current.status === session.status && current.updatedAt === session.updatedAt) {
        return prev;
      }
      const next = prev.slice();
      next[index] = { ...current, ...session };
      return next;
    });
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return { sessions, nextCursor, loading, error, refresh, loadMore, create, update };
}
