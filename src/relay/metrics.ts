// The relay's Prometheus figures: how far behind the store it is, how late events reach the bus,
// and every failure by kind, so a relay that is alive but stuck shows on a dashboard.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type RelayFailure = 'publish' | 'producer_reset' | 'subscription';

export interface RelayMetrics {
  published(count: number, delaysMs: number[]): void;
  failed(kind: RelayFailure): void;
}

export interface RelayGauges {
  /** Position of the last event the bus acknowledged (the checkpoint). */
  position(): bigint;
  /** Store positions between the checkpoint and the store's head. */
  lag(): Promise<bigint>;
}

const NOOP: RelayMetrics = { published: () => undefined, failed: () => undefined };

const NAMES = [
  'mining_relay_position', 'mining_relay_lag_positions', 'mining_relay_events_published_total',
  'mining_relay_publish_delay_seconds', 'mining_relay_failures_total',
];

export function relayMetrics(registry: Registry | undefined, gauges: RelayGauges): RelayMetrics {
  if (!registry) return NOOP;
  for (const name of NAMES) registry.removeSingleMetric(name);
  const registers = [registry];
  new Gauge({
    name: 'mining_relay_position', help: 'Global position of the last event Kafka acknowledged (the relay checkpoint)', registers,
    collect() {
      this.set(Number(gauges.position()));
    },
  });
  new Gauge({
    name: 'mining_relay_lag_positions',
    help: "Store head position minus the relay checkpoint (events for SQLite and PostgreSQL, log bytes for EventStoreDB); -1 when the store cannot be asked",
    registers,
    async collect() {
      this.set(await gauges.lag().then(Number, () => -1));
    },
  });
  const events = new Counter({ name: 'mining_relay_events_published_total', help: 'Events Kafka acknowledged', registers });
  const delay = new Histogram({
    name: 'mining_relay_publish_delay_seconds',
    help: "Time from an event's recordedAt to Kafka's acknowledgement of it",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
    registers,
  });
  const failures = new Counter({
    name: 'mining_relay_failures_total',
    help: 'Relay failures by kind: publish (retried), producer_reset (producer recreated, batch re-sent), subscription (resubscribed from the checkpoint)',
    labelNames: ['kind'] as const,
    registers,
  });
  for (const kind of ['publish', 'producer_reset', 'subscription'] as const) failures.inc({ kind }, 0);
  return {
    published(count, delaysMs) {
      events.inc(count);
      for (const ms of delaysMs) delay.observe(Math.max(0, ms) / 1000);
    },
    failed: (kind) => failures.inc({ kind }),
  };
}
