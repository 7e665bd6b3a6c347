'use client';

import { type FormEvent, useState } from 'react';
import { isApiToken } from '../lib/auth-token';

/** Asks for an API token once; the page keeps it in this browser. */
export function SignIn({
  notice,
  onToken,
}: {
  notice: string | null;
  onToken(token: string): void;
}) {
  const [value, setValue] = useState('');
  const [invalid, setInvalid] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim();
    if (!isApiToken(token)) {
      setInvalid(true);
      return;
    }
    onToken(token);
  };

  return (
    <div className="app app--signed-out">
      <form className="placeholder sign-in" data-testid="sign-in" onSubmit={submit}>
        <h2>Sign in to Tern</h2>
        {notice ? (
          <p className="sign-in__notice" role="alert">
            {notice}
          </p>
        ) : null}
        <p>
          Paste your API token. An admin creates one with <code>tern users add &lt;name&gt;</code>,
          and on a single machine <code>tern up</code> prints the first one.
        </p>
        <input
          className="composer__input sign-in__input"
          data-testid="token-input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="tern_…"
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setInvalid(false);
          }}
        />
        {invalid ? <p className="sign-in__notice">That is not a Tern API token.</p> : null}
        <button type="submit" className="button button--primary" data-testid="sign-in-submit">
          Sign in
        </button>
      </form>
    </div>
  );
}
