import { apiTokenSchema } from '@tern/shared/auth/api-token-format';
import type { Caller, UserStore } from '@tern/shared/auth/user-store';
import type { Logger } from '@tern/shared/obs/logger';
import type {
  ClientToServerEvents,
  ServerToClientEvents,
  SubscribeAck,
} from '@tern/shared/protocol/events';
import type { DefaultEventsMap, ExtendedError, Server, Socket } from 'socket.io';
import { z } from 'zod';

/** What the gateway keeps per socket: the user it authenticated at the handshake. */
export type GatewaySocketData = { caller?: Caller };

export type GatewayServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  DefaultEventsMap,
  GatewaySocketData
>;
export type GatewaySocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  DefaultEventsMap,
  GatewaySocketData
>;

const handshakeAuthSchema = z.object({ token: apiTokenSchema });

const UNAUTHORIZED = 'unauthorized';

function refusal(message: string): ExtendedError {
  const error: ExtendedError = new Error(`${UNAUTHORIZED}: ${message}`);
  error.data = { code: UNAUTHORIZED, message };
  return error;
}

/**
 * The socket.io handshake carries the API token (`io(url, { auth: { token } })`); a connection
 * without a valid one is refused, and the client's `connect_error` says why.
 */
export function authenticateHandshake(users: UserStore, logger: Logger) {
  return (socket: GatewaySocket, next: (error?: ExtendedError) => void) => {
    const parsed = handshakeAuthSchema.safeParse(socket.handshake.auth);
    if (!parsed.success) {
      next(refusal('connect with auth: { token: <API token> }'));
      return;
    }
    users.authenticate(parsed.data.token).then(
      (caller) => {
        if (!caller) {
          next(refusal('the API token is unknown or revoked'));
          return;
        }
        socket.data.caller = caller;
        next();
      },
      (error: unknown) => {
        logger.error({ err: (error as Error).message }, 'handshake authentication failed');
        next(new Error('unavailable: the gateway cannot reach Redis'));
      },
    );
  };
}

/** Tells a socket its token is no longer valid, and closes it (the client will not reconnect). */
function drop(socket: GatewaySocket): void {
  socket.emit(UNAUTHORIZED, { code: UNAUTHORIZED, message: 'the API token was revoked' });
  socket.disconnect(true);
}

/** Closes this gateway's sockets that authenticated with one of the revoked token hashes. */
export function dropRevoked(io: GatewayServer, hashes: string[]): number {
  const revoked = new Set(hashes);
  let dropped = 0;
  for (const socket of io.of('/').sockets.values()) {
    if (socket.data.caller && revoked.has(socket.data.caller.tokenHash)) {
      drop(socket);
      dropped += 1;
    }
  }
  return dropped;
}

/**
 * Checks every live socket's token again: after the revocation feed's connection came back, since
 * announcements made while it was down are lost.
 */
export async function recheckAll(io: GatewayServer, users: UserStore): Promise<number> {
  const sockets = [...io.of('/').sockets.values()];
  const valid = await Promise.all(
    sockets.map(async (socket) => {
      const hash = socket.data.caller?.tokenHash;
      return hash !== undefined && (await users.authenticateHash(hash)) !== undefined;
    }),
  );
  let dropped = 0;
  sockets.forEach((socket, i) => {
    if (!valid[i] && socket.connected) {
      drop(socket);
      dropped += 1;
    }
  });
  return dropped;
}

/**
 * The socket's user as of now, checked again for each request that opens something new (a
 * subscription, a batch watch): a token revoked while the revocation feed was down opens nothing.
 * A revoked token is refused on `reply` and the socket closed; `undefined` then.
 */
export async function currentCaller(
  socket: GatewaySocket,
  users: UserStore,
  reply: (ack: SubscribeAck) => void,
): Promise<Caller | undefined> {
  const caller = socket.data.caller
    ? await users.authenticateHash(socket.data.caller.tokenHash)
    : undefined;
  if (!caller) {
    reply({ ok: false, code: UNAUTHORIZED, message: 'the API token was revoked' });
    socket.disconnect(true);
  }
  return caller;
}
