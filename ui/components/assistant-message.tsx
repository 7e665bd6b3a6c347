'use client';

import { formatUsage } from '../lib/format';
import type { AssistantItem } from '../lib/transcript-state';

export function AssistantMessage({ item }: { item: AssistantItem }) {
  return (
    <div
      className="message message--assistant"
      data-testid="assistant-message"
      data-streaming={item.streaming ? 'true' : 'false'}
      data-turn-id={item.turnId}
    >
      {item.reasoning ? (
        <details className="message__reasoning">
          <summary>Reasoning</summary>
          <div className="message__reasoning-text">{item.reasoning}</div>
        </details>
      ) : null}
      <div className="message__text" data-testid="message-text">
        {item.text}
        {item.streaming ? <span className="message__caret" aria-hidden="true" /> : null}
      </div>
      {!item.streaming && item.usage ? (
        <div className="message__meta">
          {item.model}
          {item.finishReason && item.finishReason !== 'stop' ? ` · ${item.finishReason}` : ''}
          {` · ${formatUsage(item.usage)}`}
        </div>
      ) : null}
    </div>
  );
}
