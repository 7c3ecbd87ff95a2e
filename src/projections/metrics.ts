// Prometheus figures of the projector: where it is, how far behind, how much it has done.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ProjectorMetrics {
  eventsApplied(count: number): void;
  flushed(): void;
  swapped(): void;
}

const NOOP: ProjectorMetrics = { eventsApplied: () => undefined, flushed: () => undefined, swapped: () => undefined };

export interface ProjectorGauges {
  position(): bigint;
  lag(): Promise<bigint>;
}

/** Registers the projector's metrics (replacing any of the same name, e.g. after a restart in-process). */
export function projectorMetrics(registry: Registry | undefined, gauges: ProjectorGauges): ProjectorMetrics {
  if (!registry) return NOOP;
  const names = [
    'mining_projector_position', 'mining_projector_lag_events', 'mining_projector_events_total',
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
  const events = new Counter({ name: 'mining_projector_events_total', help: 'Events applied to the read model', registers });
  const flushes = new Counter({ name: 'mining_projector_flushes_total', help: 'Read-model transactions committed', registers });
  const swaps = new Counter({ name: 'mining_projector_swaps_total', help: 'Read-model files switched to after rebuild --swap', registers });
  return {
    eventsApplied: (count) => events.inc(count),
    flushed: () => flushes.inc(),
    swapped: () => swaps.inc(),
  };
}
