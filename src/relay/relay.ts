// The relay: every mining event, in position order, to a message bus (Kafka), at least once.
// The checkpoint moves only after the bus acknowledged, so a crash re-sends, never skips.
import type { Registry } from 'prom-client';
import type { Clock } from '../commands/clock.js';
import type { Logger } from '../config/logger.js';
import { accountOf, STREAM_PREFIX } from '../domain/events.js';
import type { EventStore, FromPosition, RecordedEvent, Subscription } from '../store/port.js';
import { relayMetrics } from './metrics.js';

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

/**
 * The publisher threw its connection away (Kafka: the broker no longer knows the producer's id or
 * sequence) and will use a new one: the batch was not acknowledged and must be sent again.
 */
export class PublisherResetError extends Error {
  override readonly name = 'PublisherResetError';
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(`publisher reset after ${reason}`, options);
  }
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
  /** How long stop() waits for a publish in flight before giving up on it (its batch is re-sent on the next start). */
  stopGraceMs?: number;
  registry?: Registry;
  /** For the publish-delay metric (recordedAt to acknowledgement). */
  clock?: Clock;
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

/** Exponential backoff capped at 30 s; stop() clears its timers so a stopped relay leaves none behind. */
function cancellableBackoff() {
  const timers = new Set<NodeJS.Timeout>();
  const wait = (attempt: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, Math.min(30_000, 100 * 2 ** attempt));
      timers.add(timer);
    });
  return { wait, cancel: () => timers.forEach((timer) => clearTimeout(timer)) };
}

const recordedAtOf = (event: RecordedEvent): number | undefined => {
  const recordedAt = (event.metadata as { recordedAt?: unknown } | null)?.recordedAt;
  return typeof recordedAt === 'string' ? Date.parse(recordedAt) : undefined;
};

/** `work`, or false once `ms` have passed; the timer is cleared either way so none outlives stop(). */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function startRelay(options: RelayOptions): Relay {
  const { store, publisher, checkpoint, logger } = options;
  const timers = cancellableBackoff();
  const backoff = options.backoff ?? timers.wait;
  const clock = options.clock ?? { now: () => Date.now() };
  let published = 0;
  let stopping = false;
  let checkpointClosed = false;
  let position: FromPosition = checkpoint.load();
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  let markStopping!: () => void;
  const stopRequested = new Promise<void>((resolve) => (markStopping = resolve));
  const metrics = relayMetrics(options.registry, {
    position: () => (position === 'start' ? 0n : position),
    lag: async () => {
      const head = await store.headPosition();
      const at = position === 'start' ? 0n : position;
      return head !== 'start' && head > at ? head - at : 0n;
    },
  });

  async function publishWithRetry(messages: RelayMessage[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await publisher.publish(messages);
        return;
      } catch (error) {
        if (stopping) throw error;
        const reset = error instanceof PublisherResetError;
        metrics.failed(reset ? 'producer_reset' : 'publish');
        logger?.warn({ err: error, attempt }, reset ? 'relay: producer recreated; sending the batch again' : 'relay: publish failed; retrying');
        // A stop must not wait out a long backoff.
        await Promise.race([backoff(attempt), stopRequested]);
        if (stopping) throw error;
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
          // A publish that outlived stop()'s grace is not checkpointed: its batch goes again next time.
          if (checkpointClosed) return;
          const last = events[events.length - 1]!.position;
          checkpoint.save(last);
          position = last;
          published += events.length;
          failures = 0;
          const now = clock.now();
          metrics.published(events.length, events.map((e) => now - (recordedAtOf(e) ?? now)));
        },
        onCaughtUp: () => markCaughtUp(),
        onError: (error) => {
          if (stopping) return;
          metrics.failed('subscription');
          logger?.error({ err: error }, 'relay: subscription failed; resubscribing from the checkpoint');
          void Promise.race([backoff(++failures), stopRequested]).then(() => {
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
      markStopping();
      timers.cancel();
      const grace = options.stopGraceMs ?? 5000;
      const settled = await within(subscription.stop(), grace);
      if (!settled) logger?.warn({ graceMs: grace }, 'relay: a publish was still in flight at stop; its batch will be sent again on the next start');
      checkpointClosed = true;
      checkpoint.close();
      await within(publisher.close().catch((error: unknown) => logger?.warn({ err: error }, 'relay: closing the publisher failed')), grace);
    },
  };
}
