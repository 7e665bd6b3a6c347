'use client';

import { type ReactNode, useEffect, useRef } from 'react';
import { formatUsage } from '../lib/format';
import type {
  NoticeItem,
  TranscriptItem,
  TranscriptState,
  TurnEndItem,
} from '../lib/transcript-state';
import { AssistantMessage } from './assistant-message';
import { ToolCard } from './tool-card';

/** How close to the bottom (px) counts as "following" the conversation for auto-scroll. */
const FOLLOW_THRESHOLD = 80;

function Notice({ item }: { item: NoticeItem }) {
  return (
    <div className={`notice notice--${item.tone}`} data-testid="turn-notice" data-code={item.code}>
      {item.code ? <code>{item.code}</code> : <strong>interrupted</strong>}
      <span>{item.message}</span>
    </div>
  );
}

function TurnEnd({ item }: { item: TurnEndItem }) {
  return (
    <div
      className={`turn-end turn-end--${item.reason}`}
      data-testid="turn-status"
      data-reason={item.reason}
    >
      turn finished · {item.reason} · {item.steps} {item.steps === 1 ? 'step' : 'steps'} ·{' '}
      {formatUsage(item.usage)}
    </div>
  );
}

function renderItem(item: TranscriptItem): ReactNode {
  switch (item.kind) {
    case 'user':
      return (
        <div
          key={item.key}
          className="message message--user"
          data-testid="user-message"
          data-turn-id={item.turnId}
        >
          <div className="message__text">{item.text}</div>
        </div>
      );
    case 'assistant':
      return <AssistantMessage key={item.key} item={item} />;
    case 'tool':
      return <ToolCard key={item.key} item={item} />;
    case 'notice':
      return <Notice key={item.key} item={item} />;
    case 'turn_end':
      return <TurnEnd key={item.key} item={item} />;
  }
}

export function TranscriptView({ state }: { state: TranscriptState }) {
  const scroller = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const streaming = state.items.some((i) => i.kind === 'assistant' && i.streaming);
  const working = state.session?.status === 'running' && !streaming;

  // Keep the newest output in view unless the reader scrolled up to look at something.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-run whenever the content changes.
  useEffect(() => {
    const el = scroller.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [state.items, state.pending, working]);

  const onScroll = () => {
    const el = scroller.current;
    if (el) following.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_THRESHOLD;
  };

  return (
    <div className="transcript" ref={scroller} onScroll={onScroll} data-testid="transcript">
      <div className="transcript__inner">
        {state.items.length === 0 && state.pending.length === 0 ? (
          <div className="transcript__empty">No messages yet. Say something below.</div>
        ) : null}
        {state.items.map(renderItem)}
        {working ? (
          <div className="working" data-testid="working">
            <span className="working__dot" />
            <span className="working__dot" />
            <span className="working__dot" />
          </div>
        ) : null}
        {state.pending.map((input) => (
          <div
            key={`pending-${input.inputSeq}`}
            className="message message--user message--pending"
            data-testid="pending-message"
            data-input-seq={input.inputSeq}
          >
            <div className="message__text">{input.text}</div>
            <div className="message__meta">queued</div>
          </div>
        ))}
      </div>
    </div>
  );
}
