// The handle every adapter's catch-up subscription returns: the loop's failure goes to the handler
// once (or rejects `done` when it has no onError), and stop() wakes the loop and waits for its end.
import type { RecordedEvent, Subscription, SubscriptionHandler } from './port.js';

/** Shared between a subscription's loop and its handle: set `stopped`, then call `wake` if the loop waits. */
export interface StopSignal {
  stopped: boolean;
  wake?: (() => void) | undefined;
}

export function subscriptionHandle<E extends RecordedEvent>(loop: Promise<void>, signal: StopSignal, handler: SubscriptionHandler<E>): Subscription {
  const done = loop.catch((error: unknown) => {
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
