import type { EventEnvelope } from '@tern/shared/protocol/events';
import type { LogEntry } from '@tern/shared/session/log-entry';

/**
 * What a watcher saw that the final log contradicts; empty when the two agree. Every committed
 * entry a client was shown must be the log's entry at that seq (a zombie's commit that was
 * rejected would show up here), each turn finishes once, and the answer text streamed after the
 * last discard of each model call is the text the log kept.
 */
export function contradictions(
  sessionId: string,
  envelopes: EventEnvelope[],
  log: LogEntry[],
): string[] {
  const problems: string[] = [];
  const mine = envelopes.filter((e) => e.sessionId === sessionId);
  const bySeq = new Map(log.map((entry) => [entry.seq, entry]));
  for (const { event } of mine) {
    if (event.type !== 'entry') continue;
    const logged = bySeq.get(event.entry.seq);
    if (!logged)
      problems.push(`entry seq ${event.entry.seq} (${event.entry.kind}) is not in the log`);
    else if (canonical(logged) !== canonical(event.entry))
      problems.push(
        `entry seq ${event.entry.seq} differs from the log's: ${canonical(event.entry)} vs ${canonical(logged)}`,
      );
  }
  const finished = new Map<string, number>();
  for (const { event } of mine)
    if (event.type === 'turn_finished')
      finished.set(event.turnId, (finished.get(event.turnId) ?? 0) + 1);
  for (const [turnId, n] of finished)
    if (n > 1) problems.push(`turn ${turnId} finished ${n} times`);

  // Deltas since the last commit or discard must spell the next assistant message exactly.
  let streamed = '';
  for (const { event } of mine) {
    if (event.type === 'text_delta') streamed += event.text;
    else if (event.type === 'stream_discarded') streamed = '';
    else if (event.type === 'entry' && event.entry.kind === 'assistant_message') {
      if (streamed !== '' && streamed !== event.entry.text)
        problems.push(`seq ${event.entry.seq}: streamed text differs from the committed answer`);
      streamed = '';
    }
  }
  return problems;
}

/** JSON with keys sorted, so equal entries compare equal whichever process serialised them. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
