'use client';

import { type FormEvent, type KeyboardEvent, useState } from 'react';

export function Composer({
  disabled,
  busy,
  onSend,
}: {
  disabled: boolean;
  busy: boolean;
  /** Resolves true when the API accepted the message; the draft is kept otherwise. */
  onSend: (text: string) => Promise<boolean>;
}) {
  const [draft, setDraft] = useState('');
  const canSend = !disabled && !busy && draft.trim() !== '';

  const submit = async () => {
    if (!canSend) return;
    if (await onSend(draft)) setDraft('');
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <textarea
        className="composer__input"
        data-testid="message-input"
        placeholder={
          disabled
            ? 'Select or create a session'
            : 'Message (Enter to send, Shift+Enter for a new line)'
        }
        value={draft}
        disabled={disabled}
        rows={3}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button
        type="submit"
        className="button button--primary"
        data-testid="send"
        disabled={!canSend}
      >
        {busy ? 'Sending…' : 'Send'}
      </button>
    </form>
  );
}
