// One sweep pass: take every session due at the pass's `now` out of the index, earliest deadline
// first, and send each an `expire` through the command handler, a bounded number at a time.
// The decider decides; the index only chooses whom to ask.
import type { CommandHandler } from '../commands/handler.js';
import { STREAM_PREFIX } from '../domain/events.js';
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
