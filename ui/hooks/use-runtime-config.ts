'use client';

import { useEffect, useState } from 'react';
import type { RuntimeConfig } from '../lib/runtime-config';

export type RuntimeConfigState =
  | { status: 'loading' }
  | { status: 'ready'; config: RuntimeConfig }
  | { status: 'failed'; message: string };

/** Fetches the backend addresses from the UI server at runtime (see app/api/config/route.ts). */
export function useRuntimeConfig(): RuntimeConfigState {
  const [state, setState] = useState<RuntimeConfigState>({ status: 'loading' });
  useEffect(() => {
    let cancelled = false;
    fetch('/api/config', { cache: 'no-store' })
      .then(async (response) => {
        if (!response.ok) throw new Error(`/api/config answered ${response.status}`);
        const config = (await response.json()) as RuntimeConfig;
        if (!cancelled) setState({ status: 'ready', config });
      })
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (!cancelled) setState({ status: 'failed', message });
      });
    return () => {
      cancelled = true;
    };
  }, []);
  return state;
}
