// Prometheus metrics of the API: request rates and latencies, commands, heartbeats, refusals.
// The projector and the sweeper export theirs (lag, active and overdue sessions, stop lag) into the
// same registry. Per-request work is one histogram observation; counters are plain numbers read
// at scrape time.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CommandResult } from '../commands/handler.js';

export interface ApiMetrics {
  command(type: string, result: CommandResult): void;
  rateLimited(command: string): void;
  /** One item of POST /v1/heartbeats: ok, or the code it was refused with. */
  bulkItem(outcome: string): void;
}

/**
 * Figures read at scrape time. The projector and the sweeper export their own (lag, active and
 * overdue sessions) into the same registry; these fill in for a part that runs elsewhere.
 */
export interface MetricSources {
  /** Events in the store the read model has not applied yet (a follower read model's lag). */
  projectorLag?: () => Promise<bigint> | bigint;
  /** Age of the oldest unapplied event, in seconds (a follower read model's lag). */
  projectorLagSeconds?: () => Promise<number> | number;
  /** Sessions past deadline + grace not stopped yet, when no sweeper in this process counts them. */
  sessionsOverdue?: () => Promise<number> | number;
}

/** Label values joined by "|" → count. */
type Tally = Map<string, number>;

function bump(tally: Tally, key: string): void {
  tally.set(key, (tally.get(key) ?? 0) + 1);
}

/** A counter whose increments are plain additions; the registry reads the deltas when scraped. */
function tallyCounter(registry: Registry, name: string, help: string, labelNames: string[], tally: Tally): void {
  const reported = new Map<string, number>();
  registerOnce(registry, name, () => new Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      for (const [key, value] of tally) {
        const delta = value - (reported.get(key) ?? 0);
        reported.set(key, value);
        if (delta <= 0) continue;
        const values = key.split('|');
        this.inc(Object.fromEntries(labelNames.map((label, i) => [label, values[i] ?? ''])), delta);
      }
    },
  }));
}

/** Another part of the process (sweeper, projector) may have registered the same figure first. */
function registerOnce(registry: Registry, name: string, create: () => unknown): void {
  if (registry.getSingleMetric(name) === undefined) create();
}

function gauge(registry: Registry, name: string, help: string, read: (() => Promise<number> | number) | undefined): void {
  if (!read) return;
  registerOnce(registry, name, () => new Gauge({
    name, help, registers: [registry],
    async collect() {
      this.set(await read());
    },
  }));
}

export function installMetrics(app: FastifyInstance, registry: Registry, sources: MetricSources): ApiMetrics {
  const commands: Tally = new Map();
  const heartbeats: Tally = new Map();
  const refused: Tally = new Map();
  const bulkItems: Tally = new Map();
  tallyCounter(registry, 'mining_commands_total', 'Commands handled, by command and outcome (ok or the domain error)', ['command', 'outcome'], commands);
  tallyCounter(registry, 'mining_heartbeats_total', 'Heartbeats accepted: recorded, or coalesced under MIN_HEARTBEAT_INTERVAL_MS', ['recorded'], heartbeats);
  tallyCounter(registry, 'mining_rate_limited_total', 'Commands refused with 429 RATE_LIMITED', ['command'], refused);
  tallyCounter(registry, 'mining_bulk_heartbeats_total', 'Items of POST /v1/heartbeats, by outcome (ok or the refusal code)', ['outcome'], bulkItems);
  const projectorLag = sources.projectorLag;
  gauge(registry, 'mining_projector_lag_events', 'Events in the store beyond the read-model checkpoint',
    projectorLag && (async () => Number(await projectorLag())));
  gauge(registry, 'mining_projector_lag_seconds', 'Age of the oldest event in the store the read model has not applied (0 when caught up)',
    sources.projectorLagSeconds);
  gauge(registry, 'mining_sessions_overdue', 'Sessions past deadline + SWEEP_GRACE_MS that are not stopped yet; above 0 for long means no sweeper works',
    sources.sessionsOverdue);

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });

  return {
    command(type, result) {
      bump(commands, `${type}|${result.decision.error ?? 'ok'}`);
      if (type === 'heartbeat' && !result.decision.error) bump(heartbeats, result.decision.recorded ? 'true' : 'false');
    },
    rateLimited(command) {
      bump(refused, command);
    },
    bulkItem(outcome) {
      bump(bulkItems, outcome);
      if (outcome === 'RATE_LIMITED') bump(refused, 'heartbeat');
    },
  };
}
