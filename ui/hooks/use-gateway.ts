'use client';

import type { ClientToServerEvents, ServerToClientEvents } from '@tern/shared/protocol/events';
import { useEffect, useState } from 'react';
import { io, type Socket } from 'socket.io-client';

export type GatewaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export type GatewayStatus = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized';

/**
 * One socket.io connection to the gateway for the page's lifetime, authenticated with the API
 * token; it reconnects by itself, except once the gateway refused the token.
 */
export function useGateway(
  gatewayUrl: string | null,
  token: string | null,
): {
  socket: GatewaySocket | null;
  status: GatewayStatus;
} {
  const [socket, setSocket] = useState<GatewaySocket | null>(null);
  const [status, setStatus] = useState<GatewayStatus>('connecting');

  useEffect(() => {
    if (!gatewayUrl || !token) return;
    // WebSocket first (no CORS preflight); long-polling remains as a fallback for proxies that
    // refuse upgrades.
    const s: GatewaySocket = io(gatewayUrl, {
      transports: ['websocket', 'polling'],
      auth: { token },
    });
    let refused = false;
    const onConnect = () => setStatus('connected');
    let rejoin: ReturnType<typeof setTimeout> | undefined;
    const onDisconnect = (reason: string) => {
      if (refused) return;
      setStatus('reconnecting');
      // socket.io does not reconnect by itself after a server-side disconnect; a gateway that
      // drains on SIGTERM does exactly that, and another gateway can take over.
      if (reason === 'io server disconnect') rejoin = setTimeout(() => s.connect(), 1000);
    };
    const onUnauthorized = () => {
      refused = true;
      setStatus('unauthorized');
    };
    const onError = (error: Error) => {
      if (error.message.startsWith('unauthorized')) onUnauthorized();
      else setStatus((prev) => (prev === 'connected' ? 'reconnecting' : prev));
    };
    s.on('connect', onConnect);
    s.on('disconnect', onDisconnect);
    s.on('connect_error', onError);
    s.on('unauthorized', onUnauthorized);
    setSocket(s);
    return () => {
      clearTimeout(rejoin);
      s.off('connect', onConnect);
      s.off('disconnect', onDisconnect);
      s.off('connect_error', onError);
      s.off('unauthorized', onUnauthorized);
      s.disconnect();
      setSocket(null);
      setStatus('connecting');
    };
  }, [gatewayUrl, token]);

  return { socket, status };
}
