'use client';

import { useCallback, useEffect, useState } from 'react';

function fromHash(hash: string): string | null {
  const id = decodeURIComponent(hash.replace(/^#/, ''));
  return id.startsWith('ses_') ? id : null;
}

/** The selected session lives in the URL hash, so a reload or a shared link reopens it. */
export function useSelectedSession(): [string | null, (id: string | null) => void] {
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    const read = () => setSelected(fromHash(window.location.hash));
    read();
    window.addEventListener('hashchange', read);
    return () => window.removeEventListener('hashchange', read);
  }, []);

  const select = useCallback((id: string | null) => {
    const url = id
      ? `#${encodeURIComponent(id)}`
      : window.location.pathname + window.location.search;
    window.history.replaceState(null, '', url);
    setSelected(id);
  }, []);

  return [selected, select];
}
