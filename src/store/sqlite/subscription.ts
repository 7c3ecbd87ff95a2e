// A catch-up subscription over the embedded store: the backlog in batches, a caught-up signal,
// then live events as commits are noticed. Restartable from any checkpoint.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FromPosition, RecordedEvent, Subscription, SubscriptionHandler } from '../port.js';
import { subscriptionHandle, type StopSignal } from '../subscription-handle.js';
import type { ScannedPage } from './reader.js';

export interface SubscriptionSource<E extends RecordedEvent> {
  from: FromPosition;
  batchSize: number;
  readPage(after: bigint, limit: number): ScannedPage<E>;
  /**
   * What this process committed after `after`, from memory (see CommittedLog.page); absent: every
   * page is read from the store.
   */
  livePage?(after: bigint, limit: number): ScannedPage<E> | 'gap' | undefined;
  /** Changes when a commit memory may not hold was noticed (another connection's). */
  foreignCount?(): number;
  commitCount(): number;
  waitForCommit(after: number, signal: StopSignal): Promise<void>;
  isClosed(): boolean;
  handler: SubscriptionHandler<E>;
}

/**
 * The store is read for the backlog, and afterwards only when memory has a hole or another
 * connection committed; our own writer's commits come from memory. Either way a page holds the
 * same events in the same order, so the subscriber cannot tell the two apart.
 */
export function createSubscription<E extends RecordedEvent>(source: SubscriptionSource<E>): Subscription {
  const signal: StopSignal = { stopped: false };
  const { handler } = source;

  async function run(): Promise<void> {
    let after = source.from === 'start' ? 0n : source.from;
    let caughtUp = false;
    // Read the store until a page comes back short: then everything committed so far was seen.
    let mustRead = true;
    let foreignSeen = source.foreignCount?.() ?? 0;
    while (!signal.stopped && !source.isClosed()) {
      const seen = source.commitCount();
      const live = source.livePage?.(after, source.batchSize);
      if (live === 'gap') mustRead = true;
      else if (live !== undefined) {
        if (live.scannedTo > after) after = live.scannedTo;
        if (live.events.length > 0) await handler.onEvents(live.events);
        continue;
      }
      const foreign = source.foreignCount?.() ?? 0;
      if (mustRead || foreign !== foreignSeen || !source.livePage) {
        foreignSeen = foreign;
        const page = source.readPage(after, source.batchSize);
        mustRead = page.events.length >= source.batchSize;
        // Skip what the filter passed over too, so a rare prefix does not rescan the log on every commit.
        if (page.scannedTo > after) after = page.scannedTo;
        if (page.events.length > 0) {
          await handler.onEvents(page.events);
          // Let HTTP and timers breathe between backlog batches.
          await yieldToLoop();
          continue;
        }
      }
      if (!caughtUp) {
        caughtUp = true;
        await handler.onCaughtUp?.(after);
        continue;
      }
      await source.waitForCommit(seen, signal);
    }
  }

  return subscriptionHandle(run(), signal, handler);
}
