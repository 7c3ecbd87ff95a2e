// The relay: every mining event, in position order, to a message bus (Kafka), at least once.
// The checkpoint moves only after the bus acknowledged, so a crash re-sends, never skips.
import type { Logger } from '../config/logger.js';
import { accountOf, STREAM_PREFIX } from '../domain/events.js';
import type { EventStore, FromPosition, RecordedEvent, Subscription } from '../store/port.js';

export interface RelayMessage {
  /** The account id: one account's events stay in order on one partition. */
  key: string;
  value: string;
  headers: { 'event-id': string; 'event-type': string; position: string; stream: string; revision: string };
}

/** The port the relay publishes through; Kafka is one adapter. */
export interface Publisher {
  /** Resolves once every message is acknowledged by the bus. */
  publish(messages: RelayMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface RelayCheckpoint {
  load(): FromPosition;
  save(position: bigint): void;
  close(): void;
}

export interface RelayOptions {
  store: EventStore;
  publisher: Publisher;
  checkpoint: RelayCheckpoint;
  logger?: Logger;
  batchSize?: number;
  /** Waits before retrying a failed publish; injected so tests need not sleep. */
  backoff?: (attempt: number) => Promise<void>;
}

export interface Relay {
  caughtUp: Promise<void>;
  published(): number;
  stop(): Promise<void>;
}

export function toMessage(event: RecordedEvent): RelayMessage {
  return {
    key: accountOf(event.stream) ?? event.stream,
    value: JSON.stringify({
      id: event.id, stream: event.stream, revision: event.revision.toString(), position: event.position.toString(),
      type: event.type, data: event.data, metadata: event.metadata,
    }),
    headers: {
      'event-id': event.id, 'event-type': event.type, position: event.position.toString(),
      stream: event.stream, revision: event.revision.toString(),
    },
  };
}

const defaultBackoff = (attempt: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.min(30_000, 100 * 2 ** attempt)));

export function startRelay(options: RelayOptions): Relay {
  const { store, publisher, checkpoint, logger } = options;
  const backoff = options.backoff ?? defaultBackoff;
  let published = 0;
  let stopping = false;
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));

  async function publishWithRetry(messages: RelayMessage[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await publisher.publish(messages);
        return;
      } catch (error) {
        if (stopping) throw error;
        logger?.warn({ err: error, attempt }, 'relay: publish failed; retrying');
        await backoff(attempt);
      }
    }
  }

  let subscription: Subscription;
  let failures = 0;
  // A failed subscription (a store read error) starts again from the checkpoint after a backoff:
  // a relay that only logged would look alive while publishing nothing.
  function subscribe(): void {
    subscription = store.subscribeToAll(
      { from: checkpoint.load(), prefix: STREAM_PREFIX, batchSize: options.batchSize ?? 500 },
      {
        async onEvents(events) {
          await publishWithRetry(events.map(toMessage));
          checkpoint.save(events[events.length - 1]!.position);
          published += events.length;
          failures = 0;
        },
        onCaughtUp: () => markCaughtUp(),
        onError: (error) => {
          if (stopping) return;
          logger?.error({ err: error }, 'relay: subscription failed; resubscribing from the checkpoint');
          void backoff(++failures).then(() => {
            if (!stopping) subscribe();
          });
        },
      },
    );
  }
  subscribe();

  return {
    caughtUp,
    published: () => published,
    async stop() {
      stopping = true;
      await subscription.stop();
      checkpoint.close();
      await publisher.close();
    },
  };
}
