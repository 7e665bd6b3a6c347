'use client';

import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import { useAuthToken } from '../hooks/use-auth-token';
import { useGateway } from '../hooks/use-gateway';
import { useRuntimeConfig } from '../hooks/use-runtime-config';
import { useSelectedSession } from '../hooks/use-selected-session';
import { useSessionFeed } from '../hooks/use-session-feed';
import { useSessions } from '../hooks/use-sessions';
import { ApiClient, type ApiError, toApiError } from '../lib/api-client';
import { newClientId } from '../lib/client-id';
import { Composer } from './composer';
import { ErrorBanner } from './error-banner';
import { SessionList } from './session-list';
import { SignIn } from './sign-in';
import { TranscriptView } from './transcript-view';

function Unreachable({
  title,
  detail,
  onRetry,
}: {
  title: string;
  detail: string;
  onRetry?: () => void;
}) {
  return (
    <div className="placeholder placeholder--problem" data-testid="api-unreachable">
      <h2>{title}</h2>
      <p>{detail}</p>
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function TernApp() {
  const runtime = useRuntimeConfig();
  const config = runtime.status === 'ready' ? runtime.config : null;
  const auth = useAuthToken();
  const api = useMemo(
    () => (config && auth.token ? new ApiClient(config.apiUrl, auth.token) : null),
    [config, auth.token],
  );
  const gateway = useGateway(config?.gatewayUrl ?? null, auth.token);
  const sessions = useSessions(api);
  const [selectedId, select] = useSelectedSession();
  const feed = useSessionFeed(api, gateway.socket, selectedId);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [sending, setSending] = useState(false);
  const [creating, setCreating] = useState(false);
  // A send that failed without an answer is retried under the same clientMessageId, so the API
  // can recognise it if the first attempt did reach it.
  const unansweredSend = useRef<{ sessionId: string; text: string; id: string } | null>(null);

  const { update: updateListed } = sessions;
  useEffect(() => {
    if (feed.state.session) updateListed(feed.state.session);
  }, [feed.state.session, updateListed]);

  // A refused token (revoked, or mistyped) sends the user back to the sign-in form.
  const refused =
    gateway.status === 'unauthorized' ||
    [sessions.error, feed.error, actionError].some((e) => e?.status === 401);
  const { signOut } = auth;
  useEffect(() => {
    if (refused) signOut('Tern refused this API token (revoked or mistyped). Paste a valid one.');
  }, [refused, signOut]);

  const createSession = async () => {
    setCreating(true);
    try {
      const session = await sessions.create();
      select(session.id);
      setActionError(null);
    } catch (error) {
      setActionError(toApiError(error));
    } finally {
      setCreating(false);
    }
  };

  const send = async (text: string): Promise<boolean> => {
    if (!api || !selectedId) return false;
    const previous = unansweredSend.current;
    const clientMessageId =
      previous && previous.sessionId === selectedId && previous.text === text
        ? previous.id
        : newClientId();
    unansweredSend.current = { sessionId: selectedId, text, id: clientMessageId };
    setSending(true);
    try {
      const accepted = await api.postMessage(selectedId, { text, clientMessageId });
      unansweredSend.current = null;
      feed.queue({ inputSeq: accepted.inputSeq, turnId: accepted.turnId, text, at: Date.now() });
      setActionError(null);
      return true;
    } catch (error) {
      const apiError = toApiError(error);
      if (!apiError.unreachable) unansweredSend.current = null;
      setActionError(apiError);
      return false;
    } finally {
      setSending(false);
    }
  };

  const retryAll = () => {
    setActionError(null);
    void sessions.refresh();
    feed.retry();
  };

  const unreachable = sessions.error?.unreachable ?? false;
  const errors = [sessions.error, feed.error, actionError].filter(
    (e, i, all): e is ApiError => e !== null && all.findIndex((o) => o?.code === e.code) === i,
  );
  const session = feed.state.session;

  if (auth.ready && !auth.token) return <SignIn notice={auth.notice} onToken={auth.signIn} />;

  let main: ReactNode;
  if (runtime.status === 'failed') {
    main = (
      <Unreachable
        title="Cannot load the UI configuration"
        detail={runtime.message}
        onRetry={() => window.location.reload()}
      />
    );
  } else if (runtime.status === 'loading') {
    main = <div className="placeholder">Loading…</div>;
  } else if (unreachable && !session) {
    main = (
      <Unreachable
        title="Cannot reach the API"
        detail={`No answer from the Tern API at ${config?.apiUrl}. Is it running?`}
        onRetry={retryAll}
      />
    );
  } else if (!selectedId) {
    main = (
      <div className="placeholder">
        <h2>No session selected</h2>
        <p>Pick a session on the left, or start a new one.</p>
      </div>
    );
  } else if (!session) {
    main = <div className="placeholder">{feed.loading ? 'Loading session…' : null}</div>;
  } else {
    main = <TranscriptView state={feed.state} />;
  }

  return (
    <div className="app">
      <aside className="sidebar">
        <div className="sidebar__head">
          <span className="brand">Tern</span>
          <button
            type="button"
            className="button button--primary"
            data-testid="new-session"
            disabled={!api || creating}
            onClick={() => void createSession()}
          >
            New session
          </button>
        </div>
        <SessionList
          sessions={sessions.sessions}
          selectedId={selectedId}
          hasMore={sessions.nextCursor !== null}
          emptyText={
            sessions.error
              ? 'Sessions unavailable'
              : !api || sessions.loading
                ? ''
                : 'No sessions yet'
          }
          onSelect={select}
          onLoadMore={() => void sessions.loadMore()}
        />
      </aside>
      <main className="main">
        <header className="main__head">
          <div className="main__title">
            {session ? (
              <>
                <h1>{session.title || session.id}</h1>
                <span className="main__model">{session.model}</span>
                <span
                  className={`pill pill--${session.status}`}
                  data-testid="session-status"
                  data-status={session.status}
                >
                  {session.status}
                </span>
              </>
            ) : (
              <h1>{selectedId ?? 'Tern'}</h1>
            )}
          </div>
          {config ? (
            <span
              className={`pill pill--gateway-${gateway.status}`}
              data-testid="gateway-status"
              data-status={gateway.status}
              title={config.gatewayUrl}
            >
              {gateway.status === 'connected' ? 'live' : gateway.status}
            </span>
          ) : null}
        </header>
        {errors.length > 0 ? (
          <div className="banners">
            {errors.map((error) => (
              <ErrorBanner
                key={error.code}
                error={error}
                onDismiss={error === actionError ? () => setActionError(null) : undefined}
              />
            ))}
          </div>
        ) : null}
        <div className="main__body">{main}</div>
        <Composer disabled={!session} busy={sending} onSend={send} />
      </main>
    </div>
  );
}
