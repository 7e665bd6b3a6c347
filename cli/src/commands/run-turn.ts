import { randomUUID } from 'node:crypto';
import type { ApiClient } from '../client/api-client.ts';
import type { SessionStream } from '../client/session-stream.ts';
import { type Out, printEvent } from '../client/turn-printer.ts';

/**
 * Posts one message and streams its turn to the terminal until the turn finishes. Resolves with
 * the turn's finish reason.
 */
export async function streamOneTurn(
  api: ApiClient,
  stream: SessionStream,
  sessionId: string,
  text: string,
  out: Out,
  err: Out,
): Promise<string> {
  let turnId: string | undefined;
  const early: Parameters<Parameters<SessionStream['onEvent']>[0]>[0][] = [];
  let resolveDone: (reason: string) => void = () => {};
  const done = new Promise<string>((r) => {
    resolveDone = r;
  });
  const handle = (envelope: (typeof early)[number]) => {
    const event = envelope.event;
    const eventTurn =
      'turnId' in event ? event.turnId : event.type === 'entry' ? event.entry.turnId : undefined;
    if (eventTurn !== turnId) return;
    printEvent(event, out, err);
    if (event.type === 'turn_finished') resolveDone(event.reason);
    // A paused turn resumes only after a human decides, possibly much later, elsewhere.
    if (event.type === 'turn_paused') resolveDone('awaiting_approval');
  };
  const off = stream.onEvent((envelope) => {
    // Events can arrive before the POST returns our turn id; hold them until then.
    if (turnId === undefined) early.push(envelope);
    else handle(envelope);
  });
  try {
    const posted = await api.postMessage(sessionId, text, randomUUID());
    turnId = posted.turnId;
    for (const envelope of early.splice(0)) handle(envelope);
    return await done;
  } finally {
    off();
  }
}
