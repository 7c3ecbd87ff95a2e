// A catch-up subscription over the embedded store: the backlog in batches, a caught-up signal,
// then live events as commits are noticed. Restartable from any checkpoint.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FromPosition, Subscription, SubscriptionHandler } from '../port.js';
import type { ScannedPage } from './reader.js';

export interface CommitSignal {
  stopped: boolean;
  wake?: () => void;
}

export interface SubscriptionSource {
  from: FromPosition;
  batchSize: number;
  readPage(after: bigint, limit: number): ScannedPage;
  commitCount(): number;
  waitForCommit(after: number, signal: CommitSignal): Promise<void>;
  isClosed(): boolean;
  handler: SubscriptionHandler;
}

export function createSubscription(source: SubscriptionSource): Subscription {
  const signal: CommitSignal = { stopped: false };
  const { handler } = source;

  async function run(): Promise<void> {
    let after = source.from === 'start' ? 0n : source.from;
    let caughtUp = false;
    while (!signal.stopped && !source.isClosed()) {
      const seen = source.commitCount();
      const page = source.readPage(after, source.batchSize);
      // Skip what the filter passed over too, so a rare prefix does not rescan the log on every commit.
      if (page.scannedTo > after) after = page.scannedTo;
      if (page.events.length > 0) {
        await handler.onEvents(page.events);
        // Let HTTP and timers breathe between backlog batches.
        await yieldToLoop();
        continue;
      }
      if (!caughtUp) {
        caughtUp = true;
        await handler.onCaughtUp?.(after);
        continue;
      }
      await source.waitForCommit(seen, signal);
    }
  }

  const done = run().catch((error: unknown) => {
    if (handler.onError) handler.onError(error);
    else throw error;
  });
  return {
    done,
    async stop() {
      signal.stopped = true;
      signal.wake?.();
      await done.catch(() => undefined);
    },
  };
}
