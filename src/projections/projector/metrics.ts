// Prometheus figures of the projector: where it is, how far behind, how much it has done.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventStore } from '../../store/port.js';

export interface ProjectorMetrics {
  eventsApplied(count: number): void;
  flushed(): void;
  swapped(): void;
}

const NOOP: ProjectorMetrics = { eventsApplied: () => undefined, flushed: () => undefined, swapped: () => undefined };

export interface ProjectorGauges {
  position(): bigint;
  lag(): Promise<bigint>;
  /** Age of the oldest event the read model has not applied (0 when caught up). */
  lagSeconds(): Promise<number>;
}

/** now − recordedAt of the first event after `position`, in seconds; 0 when there is none. */
export async function lagSecondsOf(store: EventStore, position: bigint, now: number): Promise<number> {
  for await (const event of store.readAll({ from: position, maxCount: 1 })) {
    const recordedAt = Date.parse(String((event.metadata as { recordedAt?: unknown } | null)?.recordedAt));
    return Number.isFinite(recordedAt) ? Math.max(0, now - recordedAt) / 1000 : 0;
  }
  return 0;
}

/** Registers the projector's metrics (replacing any of the same name, e.g. after a restart in-process). */
export function projectorMetrics(registry: Registry | undefined, gauges: ProjectorGauges): ProjectorMetrics {
  if (!registry) return NOOP;
  const names = [
    'mining_projector_position', 'mining_projector_lag_events', 'mining_projector_lag_seconds', 'mining_projector_events_total',
    'mining_projector_flushes_total', 'mining_projector_swaps_total',
  ];
  for (const name of names) registry.removeSingleMetric(name);
  const registers = [registry];
  new Gauge({
    name: 'mining_projector_position', help: 'Global position the read model has committed (its checkpoint)', registers,
    collect() {
      this.set(Number(gauges.position()));
    },
  });
  new Gauge({
    name: 'mining_projector_lag_events', help: 'Events in the store beyond the read-model checkpoint', registers,
    async collect() {
      this.set(Number(await gauges.lag()));
    },
  });
  new Gauge({
    name: 'mining_projector_lag_seconds', help: 'Age of the oldest event in the store the read model has not applied (0 when caught up)', registers,
    async collect() {
      this.set(await gauges.lagSeconds());
    },
  });
  const events = new Counter({ name: 'mining_projector_events_total', help: 'Events applied to the read model', registers });
  const flushes = new Counter({ name: 'mining_projector_flushes_total', help: 'Read-model transactions committed', registers });
  const swaps = new Counter({ name: 'mining_projector_swaps_total', help: 'Read-model files switched to after rebuild --swap', registers });
  return {
    eventsApplied: (count) => events.inc(count),
    flushed: () => flushes.inc(),
    swapped: () => swaps.inc(),
  };
}
