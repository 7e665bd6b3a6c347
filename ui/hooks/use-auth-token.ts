'use client';

import { useCallback, useEffect, useState } from 'react';
import { forgetToken, loadToken, saveToken, takeFragmentToken } from '../lib/auth-token';

export type AuthToken = {
  token: string | null;
  /** False until the stored token (or one in the URL fragment) has been read. */
  ready: boolean;
  /** Why the user was signed out, to show on the sign-in form. */
  notice: string | null;
  signIn(token: string): void;
  signOut(reason: string): void;
};

/** The browser's API token: from a `#token=` link once, then from localStorage. */
export function useAuthToken(): AuthToken {
  const [token, setToken] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    const { location, history } = window;
    const fromLink = takeFragmentToken(location.hash);
    if (fromLink.rest !== location.hash) {
      history.replaceState(null, '', `${location.pathname}${location.search}${fromLink.rest}`);
    }
    if (fromLink.token) saveToken(fromLink.token);
    setToken(fromLink.token ?? loadToken());
    setReady(true);
  }, []);

  const signIn = useCallback((next: string) => {
    saveToken(next);
    setNotice(null);
    setToken(next);
  }, []);

  const signOut = useCallback((reason: string) => {
    forgetToken();
    setNotice(reason);
    setToken(null);
  }, []);

  return { token, ready, notice, signIn, signOut };
}
