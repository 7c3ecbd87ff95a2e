// Store append latency as Prometheus sees it, for any adapter: the append is timed where the process
// calls it (the group commit's queueing and fsync included), outcome by outcome.
import { performance } from 'node:perf_hooks';
import { Histogram, type Registry } from 'prom-client';
import { StoreUnavailableError, WrongExpectedRevisionError, type EventStore } from '../store/port.js';

export const APPEND_METRIC = 'mining_store_append_duration_seconds';

function outcomeOf(error: unknown): string {
  if (error instanceof WrongExpectedRevisionError) return 'conflict';
  if (error instanceof StoreUnavailableError) return 'unavailable';
  return 'error';
}

/** Times every append of `store` in place (the store keeps its other capabilities) and returns it. */
export function meterAppends<S extends EventStore>(store: S, registry: Registry): S {
  const existing = registry.getSingleMetric(APPEND_METRIC) as Histogram<'outcome'> | undefined;
  const histogram = existing ?? new Histogram({
    name: APPEND_METRIC,
    help: 'Event-store append latency as seen by this process (until durable), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const append = store.append.bind(store);
  store.append = async (stream, events, expected) => {
    const started = performance.now();
    try {
      const result = await append(stream, events, expected);
      histogram.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      histogram.observe({ outcome: outcomeOf(error) }, (performance.now() - started) / 1000);
      throw error;
    }
  };
  return store;
}
