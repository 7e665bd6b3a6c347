'use client';

import type { ApiError } from '../lib/api-client';

export function ErrorBanner({ error, onDismiss }: { error: ApiError; onDismiss?: () => void }) {
  return (
    <div className="error-banner" role="alert" data-testid="error-banner" data-code={error.code}>
      <code className="error-banner__code">{error.code}</code>
      <span className="error-banner__message">{error.message}</span>
      {onDismiss ? (
        <button type="button" className="button button--ghost" onClick={onDismiss}>
          Dismiss
        </button>
      ) : null}
    </div>
  );
}
