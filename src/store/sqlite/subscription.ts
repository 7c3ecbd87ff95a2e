// A catch-up subscription over the embedded store: the backlog in batches, a caught-up signal,
// then live events as commits are noticed. Restartable from any checkpoint.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FromPosition, RecordedEvent, Subscription, SubscriptionHandler } from '../port.js';

export interface SubscriptionSource {
  from: FromPosition;
  batchSize: number;
  readPage(after: bigint, limit: number): RecordedEvent[];
  commitCount(): number;
  waitForCommit(after: number, signal: { stopped: boolean; wake?: () => void }): Promise<void>;
  isClosed(): boolean;
  handler: SubscriptionHandler;
}

export function createSubscription(source: SubscriptionSource): Subscription {
  const signal: { stopped: boolean; wake?: () => void } = { stopped: false };
  const { handler } = source;

  async function run(): Promise<void> {
    let after = source.from === 'start' ? 0n : source.from;
    let caughtUp = false;
    while (!signal.stopped && !source.isClosed()) {
      const seen = source.commitCount();
      const batch = source.readPage(after, source.batchSize);
      if (batch.length > 0) {
        await handler.onEvents(batch);
        after = batch[batch.length - 1]!.position;
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
