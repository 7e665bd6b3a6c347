'use client';

import type { PendingInput } from '@tern/shared/protocol/api';
import type { EventEnvelope } from '@tern/shared/protocol/events';
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { type ApiClient, ApiError, toApiError } from '../lib/api-client';
import { compareEventIds, NO_EVENT_ID } from '../lib/event-id';
import { emptyTranscript, type TranscriptState, transcriptReducer } from '../lib/transcript-state';
import type { GatewaySocket } from './use-gateway';

const SUBSCRIBE_TIMEOUT_MS = 10_000;

export type SessionFeed = {
  state: TranscriptState;
  error: ApiError | null;
  loading: boolean;
  /** Records an input the API accepted, shown as queued until its turn picks it up. */
  queue(input: PendingInput): void;
  retry(): void;
};

/**
 * Loads one session over HTTP, then follows it on the gateway from the transcript's
 * `lastEventId`. On reconnect it re-subscribes from the last event it applied, so nothing is
 * missed or shown twice; on `reload` (cursor beyond the stream's retention) it refetches.
 */
export function useSessionFeed(
  api: ApiClient | null,
  socket: GatewaySocket | null,
  sessionId: string | null,
): SessionFeed {
  const [state, dispatch] = useReducer(transcriptReducer, null, () => emptyTranscript());
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const lastIdRef = useRef(NO_EVENT_ID);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` re-runs the load on retry.
  useEffect(() => {
    dispatch({ type: 'reset', sessionId });
    setError(null);
    if (!api || !socket || !sessionId) return;
    let cancelled = false;
    let loaded = false;

    const subscribe = () => {
      if (cancelled || !loaded || !socket.connected) return;
      socket
        .timeout(SUBSCRIBE_TIMEOUT_MS)
        .emit('subscribe', { sessionId, after: lastIdRef.current }, (err, ack) => {
          if (cancelled) return;
          if (err) {
            setError(new ApiError('subscribe_timeout', 'The gateway did not answer', -1));
          } else if (!ack.ok) {
            setError(new ApiError(ack.code, ack.message, -1));
          }
        });
    };

    const load = async () => {
      loaded = false;
      setLoading(true);
      try {
        const detail = await api.getSession(sessionId);
        if (cancelled) return;
        lastIdRef.current = detail.lastEventId;
        loaded = true;
        dispatch({ type: 'loaded', detail });
        setError(null);
        subscribe();
      } catch (e) {
        if (!cancelled) setError(toApiError(e));
      } finally {
        if (!cancelled) setLoading(false);
      }
    };

    const onEvent = (envelope: EventEnvelope) => {
      // Before the transcript is loaded, events are dropped: the subscription that follows the
      // load replays them from the transcript's own cursor.
      if (!loaded || envelope.sessionId !== sessionId) return;
      if (compareEventIds(envelope.id, lastIdRef.current) > 0) lastIdRef.current = envelope.id;
      dispatch({ type: 'event', envelope });
    };
    const onReload = (info: { sessionId: string }) => {
      if (info.sessionId === sessionId) void load();
    };

    socket.on('connect', subscribe);
    socket.on('event', onEvent);
    socket.on('reload', onReload);
    void load();

    return () => {
      cancelled = true;
      socket.off('connect', subscribe);
      socket.off('event', onEvent);
      socket.off('reload', onReload);
      if (socket.connected) socket.emit('unsubscribe', { sessionId });
    };
  }, [api, socket, sessionId, attempt]);

  const queue = useCallback((input: PendingInput) => dispatch({ type: 'queued', input }), []);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);

  return { state, error, loading, queue, retry };
}
