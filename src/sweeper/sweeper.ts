// The sweeper: a deadline index that follows the store, and a pass every intervalMs that issues
// `expire` through the same command handler as the API. Balances never depend on it: it only
// records, at each session's own deadline, the stop that the decider would record anyway.
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import type { Clock } from '../commands/clock.js';
import type { CommandHandler } from '../commands/handler.js';
import { silentLogger, type Logger } from '../config/logger.js';
import type { MiningStore } from '../commands/codec.js';
import { followStore, stopLagMs, type ActiveSessionSource } from './follower.js';
import { createSweeperMetrics } from './metrics.js';
import { createPassRunner } from './pass.js';
import { createSessionIndex } from './session-index.js';
import { validateShard, type Shard } from './shard.js';

export interface SweeperOptions {
  store: MiningStore;
  handler: CommandHandler;
  clock: Clock;
  /** Time between passes; 0 runs no timer (passes only through sweepOnce, as tests do). */
  intervalMs: number;
  /** A session is due when now > deadline + graceMs (clock skew between nodes). */
  graceMs: number;
  logger?: Logger;
  registry?: Registry;
  /** This instance sweeps only the accounts of shard `index` of `count` (0-based). */
  shard?: Shard;
  /** Recorded as the stops' actor id; default `sweeper-<host>-<pid>`. */
  sweeperId?: string;
  /** Expire commands in flight at once (default 64). */
  concurrency?: number;
  /** Seed the index with the read model's active sessions and follow from its checkpoint, instead of from the start. */
  readModel?: ActiveSessionSource;
  /** Longest wait, before a pass, for the index to reach the store's head (default 1000 ms). */
  syncTimeoutMs?: number;
}

export interface SweeperStats {
  activeSessions: number;
  overdue: number;
  stops: number;
}

export interface Sweeper {
  /** one pass: expire every session overdue at clock.now(); resolves to the number of stops written */
  sweepOnce(): Promise<number>;
  /** resolves when the index has caught up with the store */
  caughtUp: Promise<void>;
  stats(): SweeperStats;
  stop(): Promise<void>;
  /** Resolves with the error when following the store fails (the sweeper then stops sweeping). */
  readonly failure: Promise<Error>;
  readonly sweeperId: string;
}

/** Runs a pass every intervalMs once started, skipping a tick while the last pass still runs; 0 = never. */
function startTicking(intervalMs: number, sweepOnce: () => Promise<number>, logger: Logger) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running = false;
  function tick(): void {
    if (running || stopped) return;
    running = true;
    sweepOnce()
      .catch((error: unknown) => logger.error({ err: error }, 'sweeper: pass failed'))
      .finally(() => (running = false));
  }
  return {
    start() {
      if (intervalMs <= 0 || stopped || timer) return;
      timer = setInterval(tick, intervalMs);
      tick();
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
  };
}

function defaultSweeperId(): string {
  return `sweeper-${hostname()}-${process.pid}`.slice(0, 200);
}

export async function startSweeper(options: SweeperOptions): Promise<Sweeper> {
  const { clock, graceMs, intervalMs } = options;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new RangeError(`intervalMs must be >= 0, got ${intervalMs}`);
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError(`graceMs must be >= 0, got ${graceMs}`);
  const shard = options.shard ? validateShard(options.shard) : undefined;
  const logger = options.logger ?? silentLogger;
  const sweeperId = options.sweeperId ?? defaultSweeperId();
  const index = createSessionIndex();
  const overdue = () => index.countOverdue(clock.now()) + index.taken;
  const metrics = createSweeperMetrics(options.registry ?? new Registry(), {
    activeSessions: () => index.size,
    overdueSessions: overdue,
    overdueBeyondGrace: () => index.countOverdue(clock.now() - graceMs) + index.taken,
    now: () => clock.now(),
  });

  const startedAt = performance.now();
  const follower = followStore({
    store: options.store,
    index,
    logger,
    shard,
    readModel: options.readModel,
    onLiveStop(event, metadata) {
      if (metadata.actor.kind === 'sweeper' && metadata.actor.id === sweeperId) metrics.lag(stopLagMs(event, metadata));
    },
  });
  logger.info({ sweeperId, shard, intervalMs, graceMs }, 'sweeper: building the deadline index');

  const runner = createPassRunner({
    index, follower, metrics, logger, clock, sweeperId, graceMs,
    handler: options.handler,
    concurrency: options.concurrency ?? 64,
    syncTimeoutMs: options.syncTimeoutMs ?? 1000,
  });
  const ticker = startTicking(intervalMs, runner.sweepOnce, logger);
  follower.caughtUp.then(
    () => {
      logger.info(
        { activeSessions: index.size, position: follower.position.toString(), ms: Math.round(performance.now() - startedAt) },
        'sweeper: index caught up',
      );
      ticker.start(); // the first pass at once: after a restart the overdue backlog goes first
    },
    () => undefined,
  );
  void follower.failure.then(() => ticker.stop());

  let stopped: Promise<void> | undefined;
  return {
    sweepOnce: runner.sweepOnce,
    caughtUp: follower.caughtUp,
    failure: follower.failure,
    sweeperId,
    stats: () => ({ activeSessions: index.size, overdue: overdue(), stops: runner.stops }),
    stop() {
      stopped ??= (async () => {
        ticker.stop();
        await runner.drain();
        await follower.stop();
        logger.info({ sweeperId, stops: runner.stops }, 'sweeper: stopped');
      })();
      return stopped;
    },
  };
}
