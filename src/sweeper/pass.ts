// One sweep pass: take every session due at the pass's `now` out of the index, earliest deadline
// first, and send each an `expire` through the command handler, a bounded number at a time.
// The decider decides; the index only chooses whom to ask.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../config/logger.js';
import type { Clock } from '../commands/clock.js';
import type { CommandHandler } from '../commands/handler.js';
import { STREAM_PREFIX } from '../domain/events.js';
import type { IndexFollower } from './follower.js';
import type { SweeperMetrics } from './metrics.js';
import type { SessionIndex } from './session-index.js';

export interface PassOptions {
  index: SessionIndex;
  handler: CommandHandler;
  metrics: SweeperMetrics;
  sweeperId: string;
  correlationId: string;
  /** Sessions whose deadline is before this are due: now − grace. */
  dueBefore: number;
  concurrency: number;
  /** Checked before each command: a stopping sweeper finishes what is in flight and takes no more. */
  stopping(): boolean;
}

export interface PassOutcome {
  /** Stops written by this pass. */
  stops: number;
  /** Sessions asked; those that were not stopped had moved on (a heartbeat, a user stop, another sweeper). */
  asked: number;
  failures: number;
  firstFailure?: unknown;
}

export async function runPass(options: PassOptions): Promise<PassOutcome> {
  const { index, handler, metrics } = options;
  const context = { actor: { kind: 'sweeper' as const, id: options.sweeperId }, correlationId: options.correlationId };
  const outcome: PassOutcome = { stops: 0, asked: 0, failures: 0 };
  // Taken slots go back only when the pass ends, so a session the decider kept is asked once per pass.
  const taken: number[] = [];

  async function expireNext(): Promise<void> {
    while (!options.stopping()) {
      const slot = index.takeDue(options.dueBefore);
      if (slot < 0) return;
      taken.push(slot);
      outcome.asked++;
      const accountId = index.streamOf(slot).slice(STREAM_PREFIX.length);
      try {
        const result = await handler.execute(accountId, { type: 'expire' }, context);
        const stop = result.written > 0 ? result.decision.events.find((e) => e.type === 'MiningStopped') : undefined;
        if (stop?.type === 'MiningStopped') {
          outcome.stops++;
          metrics.stopped(stop.data.reason);
        }
      } catch (error) {
        // The session stays indexed and is asked again on the next pass.
        outcome.failures++;
        outcome.firstFailure ??= error;
        metrics.expireFailed();
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, expireNext));
  } finally {
    for (const slot of taken) index.handBack(slot);
  }
  return outcome;
}

export interface PassRunnerOptions {
  index: SessionIndex;
  follower: IndexFollower;
  handler: CommandHandler;
  metrics: SweeperMetrics;
  clock: Clock;
  logger: Logger;
  sweeperId: string;
  graceMs: number;
  concurrency: number;
  syncTimeoutMs: number;
}

export interface PassRunner {
  /** Queues a pass behind any running one; resolves to the stops it wrote. */
  sweepOnce(): Promise<number>;
  /** Lets the running pass finish what is in flight, takes nothing more, and resolves when it has. */
  drain(): Promise<void>;
  readonly stops: number;
}

export function createPassRunner(options: PassRunnerOptions): PassRunner {
  const { index, follower, metrics, logger } = options;
  let stopping = false;
  let requestStop!: () => void;
  // A stop during a long catch-up must not wait for the catch-up to finish.
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  let passes = 0;
  let stops = 0;

  async function pass(): Promise<number> {
    await Promise.race([follower.caughtUp, stopRequested]);
    if (stopping) return 0;
    // Every event committed before the pass began is in the index (bounded wait).
    await follower.syncToHead(options.syncTimeoutMs);
    if (stopping) return 0;
    const began = performance.now();
    const outcome = await runPass({
      index, handler: options.handler, metrics, sweeperId: options.sweeperId,
      correlationId: randomUUID(),
      dueBefore: options.clock.now() - options.graceMs,
      concurrency: options.concurrency,
      stopping: () => stopping,
    });
    const seconds = (performance.now() - began) / 1000;
    metrics.passDone(seconds);
    stops += outcome.stops;
    passes++;
    if (outcome.failures > 0) {
      logger.warn({ err: outcome.firstFailure, failures: outcome.failures, pass: passes }, 'sweeper: expire commands failed; retrying next pass');
    }
    if (outcome.asked > 0) logger.info({ pass: passes, asked: outcome.asked, stops: outcome.stops, seconds }, 'sweeper: pass');
    return outcome.stops;
  }

  let chain: Promise<unknown> = Promise.resolve();
  return {
    sweepOnce() {
      const next = chain.then(pass);
      chain = next.catch(() => undefined);
      return next;
    },
    async drain() {
      stopping = true;
      requestStop();
      await chain;
    },
    get stops() {
      return stops;
    },
  };
}
