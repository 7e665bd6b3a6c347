'use client';

import type { ClientToServerEvents, ServerToClientEvents } from '@tern/shared/protocol/events';
import { useEffect, useState } from 'react';
import { io, type Socket } from 'socket.io-client';

export type GatewaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export type GatewayStatus = 'connecting' | 'connected' | 'reconnecting';

/** One socket.io connection to the gateway for the page's lifetime; it reconnects by itself. */
export function useGateway(gatewayUrl: string | null): {
  socket: GatewaySocket | null;
  status: GatewayStatus;
} {
  const [socket, setSocket] = useState<GatewaySocket | null>(null);
  const [status, setStatus] = useState<GatewayStatus>('connecting');

  useEffect(() => {
    if (!gatewayUrl) return;
    // WebSocket first (no CORS preflight); long-polling remains as a fallback for proxies that
    // refuse upgrades.
    const s: GatewaySocket = io(gatewayUrl, { transports: ['websocket', 'polling'] });
    const onConnect = () => setStatus('connected');
    let rejoin: ReturnType<typeof setTimeout> | undefined;
    const onDisconnect = (reason: string) => {
      setStatus('reconnecting');
      // socket.io does not reconnect by itself after a server-side disconnect; a gateway that
      // drains on SIGTERM does exactly that, and another gateway can take over.
      if (reason === 'io server disconnect') rejoin = setTimeout(() => s.connect(), 1000);
    };
    const onError = () => setStatus((prev) => (prev === 'connected' ? 'reconnecting' : prev));
    s.on('connect', onConnect);
    s.on('disconnect', onDisconnect);
    s.on('connect_error', onError);
    setSocket(s);
    return () => {
      clearTimeout(rejoin);
      s.off('connect', onConnect);
      s.off('disconnect', onDisconnect);
      s.off('connect_error', onError);
      s.disconnect();
      setSocket(null);
      setStatus('connecting');
    };
  }, [gatewayUrl]);

  return { socket, status };
}
