// A catch-up subscription to $all on EventStoreDB, filtered by stream prefix on the server, handed to
// the port's handler in batches. The server marks the end of the backlog with a caught-up message
// (EventStoreDB 23.10 and later); the client emits it as an event as soon as it arrives, possibly
// before the events in front of it have been read, so it is delivered after exactly those events.
import {
  streamNameFilter, type AllStreamResolvedEvent, type AllStreamSubscription, type EventStoreDBClient,
} from '@eventstore/db-client';
import { StoreUnavailableError, type FromPosition, type Subscription, type SubscriptionHandler } from '../port.js';
import { positionOf, toReadPosition, toRecorded } from './mapping.js';

export interface EsdbSubscriptionOptions {
  from: FromPosition;
  prefix: string | undefined;
  batchSize: number;
}

function openFeed(client: EventStoreDBClient, options: EsdbSubscriptionOptions): AllStreamSubscription {
  const filter = options.prefix ? streamNameFilter({ prefixes: [options.prefix] }) : streamNameFilter({ regex: '^[^$]' });
  return client.subscribeToAll({ fromPosition: toReadPosition(options.from), filter });
}

export function subscribeEsdb(client: EventStoreDBClient, options: EsdbSubscriptionOptions, handler: SubscriptionHandler): Subscription {
  const feed = openFeed(client, options);
  let stopped = false;
  let ended = false;
  let failure: Error | undefined;
  /** Events taken from the feed so far, and how many of them there were when the server said caught up. */
  let pulled = 0;
  let caughtUpAfter: number | undefined;
  let signalled = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    signalled = true;
    wake?.();
  };
  feed.on('readable', poke);
  feed.on('caughtUp', () => {
    caughtUpAfter ??= pulled + feed.readableLength;
    poke();
  });
  feed.on('error', (error: Error) => {
    failure ??= new StoreUnavailableError(`EventStoreDB subscription failed: ${error.message}`);
    poke();
  });
  feed.on('end', () => {
    ended = true;
    poke();
  });

  let last: bigint = options.from === 'start' ? 0n : options.from;
  let caughtUp = false;
  /** Whether the events in front of the server's caught-up mark have all been taken. */
  const atCaughtUpMark = () => !caughtUp && caughtUpAfter !== undefined && pulled >= caughtUpAfter;
  /**
   * Reads what the feed holds, up to the batch size and never past the caught-up mark. Each read()
   * can let the client's stream transform more messages, and so emit caughtUp in the middle of this
   * loop: `pulled` is counted per read and the mark checked before each one, never once per batch.
   */
  function drain() {
    const batch = [];
    let taken = 0;
    while (taken < options.batchSize && !atCaughtUpMark()) {
      const resolved = feed.read() as AllStreamResolvedEvent | null;
      if (resolved === null) break;
      taken++;
      pulled++;
      const recorded = toRecorded(resolved);
      last = positionOf(resolved) ?? last;
      if (recorded) batch.push(recorded);
    }
    return { batch, taken };
  }

  async function run(): Promise<void> {
    while (!stopped) {
      signalled = false;
      if (atCaughtUpMark()) {
        caughtUp = true;
        await handler.onCaughtUp?.(last);
        continue;
      }
      const { batch, taken } = drain();
      if (batch.length > 0) await handler.onEvents(batch);
      if (taken > 0) continue;
      if (failure) throw failure;
      // Nobody asked it to end: the server or the connection did. Treated as a failure so that the
      // projector, sweeper and relay resubscribe from their checkpoints instead of going quiet.
      if (ended) throw new StoreUnavailableError('EventStoreDB subscription ended without being stopped');
      if (!signalled) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  }

  const done = run()
    .catch((error: unknown) => {
      if (handler.onError) handler.onError(error);
      else throw error;
    })
    .finally(() => feed.unsubscribe().catch(() => undefined));
  return {
    done,
    async stop() {
      stopped = true;
      poke();
      await done.catch(() => undefined);
    },
  };
}
