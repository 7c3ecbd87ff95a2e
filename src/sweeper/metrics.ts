// The sweeper's Prometheus metrics. Gauges are computed when scraped, from the index itself.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StopReason } from '../domain/events.js';

export interface SweeperMetrics {
  stopped(reason: StopReason): void;
  /** recordedAt − at of a stop this sweeper wrote, in ms. */
  lag(ms: number): void;
  expireFailed(): void;
  passDone(seconds: number): void;
}

export interface GaugeSources {
  activeSessions(): number;
  overdueSessions(): number;
  /** Past deadline + SWEEP_GRACE_MS and not stopped: SPEC §14 `mining_sessions_overdue`. */
  overdueBeyondGrace(): number;
  /** Wall clock (ms) for the last-pass timestamp. */
  now(): number;
}

export function createSweeperMetrics(registry: Registry, sources: GaugeSources): SweeperMetrics {
  const registers = [registry];
  new Gauge({
    name: 'mining_sweeper_active_sessions',
    help: 'Active sessions in the sweeper index (this shard)',
    registers,
    collect() {
      this.set(sources.activeSessions());
    },
  });
  new Gauge({
    name: 'mining_sweeper_overdue_sessions',
    help: 'Active sessions past their deadline and not stopped yet (this shard)',
    registers,
    collect() {
      this.set(sources.overdueSessions());
    },
  });
  new Gauge({
    name: 'mining_sessions_overdue',
    help: 'Sessions past deadline + SWEEP_GRACE_MS that are not stopped yet (this shard); above 0 for long means no sweeper works',
    registers,
    collect() {
      this.set(sources.overdueBeyondGrace());
    },
  });
  const lastPass = new Gauge({
    name: 'mining_sweeper_last_pass_timestamp_seconds',
    help: 'Unix time at which the last sweep pass ended (0 before the first)',
    registers,
  });
  const lag = new Histogram({
    name: 'mining_sweeper_stop_lag_seconds',
    help: 'recordedAt − at of the stops this sweeper wrote: how long after its deadline a session was closed',
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 3600, 86_400],
    registers,
  });
  const stops = new Counter({
    name: 'mining_sweeper_stops_total',
    help: 'Sessions this sweeper stopped, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const failures = new Counter({
    name: 'mining_sweeper_expire_failures_total',
    help: 'Expire commands that failed (retried on the next pass)',
    registers,
  });
  const passes = new Histogram({
    name: 'mining_sweeper_pass_duration_seconds',
    help: 'Duration of one sweep pass',
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 60],
    registers,
  });
  return {
    stopped: (reason) => stops.inc({ reason }),
    lag: (ms) => lag.observe(ms / 1000),
    expireFailed: () => failures.inc(),
    passDone(seconds) {
      passes.observe(seconds);
      lastPass.set(sources.now() / 1000);
    },
  };
}
