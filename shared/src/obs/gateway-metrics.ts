import { Counter, Gauge, type Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.ts';
import { bucketsOf } from './metrics.ts';

/** What a gateway samples when scraped. */
export type GatewayGauges = {
  clients(): number;
  watchedSessions(): number;
};

/**
 * Relay lag (an event's age when this gateway emits it, from the time Redis gave its stream id)
 * and the gateway's clients and tailed sessions. The lag reads two clocks, Redis's and this
 * host's: keep them in sync (NTP) or the histogram shifts by their difference.
 */
export function createGatewayMetrics(registry: Registry, gauges: GatewayGauges) {
  const registers = [registry];
  new Gauge({
    name: 'tern_gateway_connected_clients',
    help: 'socket.io clients connected to this gateway',
    registers,
    collect() {
      this.set(gauges.clients());
    },
  });
  new Gauge({
    name: 'tern_gateway_watched_sessions',
    help: 'Session streams this gateway tails for its clients',
    registers,
    collect() {
      this.set(gauges.watchedSessions());
    },
  });
  const lag = new BucketHistogram({
    name: 'tern_gateway_relay_lag_seconds',
    help: 'From an event entering its Redis stream to this gateway emitting it',
    buckets: bucketsOf('relayLag'),
    registers,
  });
  const relayed = new Counter({
    name: 'tern_gateway_relayed_events_total',
    help: 'Events this gateway emitted to its clients from the live relay',
    registers,
  });
  const slow = new Counter({
    name: 'tern_gateway_slow_clients_total',
    help: 'Backpressure on clients that could not keep up: paused, resumed live, or told to reload',
    labelNames: ['action'],
    registers,
  });
  return {
    slowClient(action: 'paused' | 'resumed' | 'reloaded'): void {
      slow.inc({ action });
    },
    /**
     * A batch of `count` events the relay read, the oldest first: a stream id's first part is
     * Redis's time in ms when the event was added. One lag observation per read (the oldest
     * event, which waited longest) keeps this cheap under a flood of token deltas.
     */
    relayed(firstId: string, count: number, now = Date.now()): void {
      if (count === 0) return;
      relayed.inc(count);
      const ms = Number.parseInt(firstId, 10);
      if (Number.isFinite(ms)) lag.observe(Math.max(0, now - ms) / 1000);
    },
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
