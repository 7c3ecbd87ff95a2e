// Keeps the deadline index in step with the store: a catch-up subscription from the beginning (or
// from the read model's checkpoint after seeding the index with its active sessions), then live.
// The position applied so far is the index's checkpoint; the index lives in memory only.
import type { Logger } from '../config/logger.js';
import type { MiningRecord, MiningStore } from '../commands/codec.js';
import { STREAM_PREFIX, type EventMetadata, type MiningEvent } from '../domain/events.js';
import { parseIso } from '../domain/time.js';
import type { ReadModel } from '../projections/read-model/read-model.js';
import type { FromPosition } from '../store/port.js';
import type { SessionIndex } from './session-index.js';
import { stableHash, type Shard } from './shard.js';

export type ActiveSessionSource = Pick<ReadModel, 'activeSessions' | 'position'>;

export interface FollowOptions {
  store: MiningStore;
  index: SessionIndex;
  logger: Logger;
  shard?: Shard | undefined;
  readModel?: ActiveSessionSource | undefined;
  batchSize?: number;
  /** Called for each live MiningStopped (after catch-up) with its metadata. */
  onLiveStop?(event: Extract<MiningEvent, { type: 'MiningStopped' }>, metadata: EventMetadata): void;
}

export interface IndexFollower {
  /** Resolves when the backlog is in the index; rejects if following failed before that. */
  readonly caughtUp: Promise<void>;
  /** Resolves with the error that stopped the follower; never resolves while it runs. */
  readonly failure: Promise<Error>;
  /** Global position of the last event applied. */
  readonly position: bigint;
  /** Waits until the index holds every event up to the store's current head, at most maxWaitMs; true when reached. */
  syncToHead(maxWaitMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

const PAGE = 10_000;

/** Seeds the index from the read model's active sessions; returns the position to follow from. */
function seedFromReadModel(source: ActiveSessionSource, index: SessionIndex, owns: (stream: string) => boolean): FromPosition {
  // Read the checkpoint first: pages may already include later events, and re-applying those is harmless.
  const position = source.position();
  let afterAccountId: string | undefined;
  for (;;) {
    const page = source.activeSessions({ afterAccountId, limit: PAGE });
    for (const session of page) {
      const stream = STREAM_PREFIX + session.accountId;
      if (owns(stream)) index.load(stream, session);
    }
    if (page.length < PAGE) break;
    afterAccountId = page[page.length - 1]!.accountId;
  }
  return position > 0n ? position : 'start';
}

export function followStore(options: FollowOptions): IndexFollower {
  const { store, index, logger, shard } = options;
  const owns = shard && shard.count > 1
    ? (stream: string) => stableHash(stream, STREAM_PREFIX.length) % shard.count === shard.index
    : () => true;
  let position = 0n;
  let live = false;
  let failed: Error | undefined;
  const waiters = new Set<{ target: bigint; done: (reached: boolean) => void }>();
  let reportFailure!: (error: Error) => void;
  const failure = new Promise<Error>((resolve) => (reportFailure = resolve));
  let markCaughtUp!: () => void;
  let failCatchUp!: (error: Error) => void;
  const caughtUp = new Promise<void>((resolve, reject) => {
    markCaughtUp = resolve;
    failCatchUp = reject;
  });
  caughtUp.catch(() => undefined); // observed through `failure`; keep an unawaited rejection quiet

  function advance(to: bigint): void {
    if (to > position) position = to;
    for (const waiter of waiters) if (waiter.target <= position) waiter.done(true);
  }

  function applyBatch(batch: MiningRecord[]): void {
    for (const recorded of batch) {
      if (!owns(recorded.stream)) continue;
      const { event, metadata } = recorded;
      index.apply(recorded.stream, event);
      if (live && event.type === 'MiningStopped') options.onLiveStop?.(event, metadata);
    }
    advance(batch[batch.length - 1]!.position);
  }

  const from = options.readModel ? seedFromReadModel(options.readModel, index, owns) : 'start';
  if (from !== 'start') position = from;
  const subscription = store.subscribeToAll(
    { from, prefix: STREAM_PREFIX, batchSize: options.batchSize ?? 1000 },
    {
      onEvents: applyBatch,
      onCaughtUp(at) {
        advance(at);
        live = true;
        markCaughtUp();
      },
      onError(error) {
        failed = error instanceof Error ? error : new Error(String(error));
        logger.error({ err: failed }, 'sweeper: following the event store failed; the index is no longer updated');
        failCatchUp(failed);
        for (const waiter of waiters) waiter.done(false);
        reportFailure(failed);
      },
    },
  );

  return {
    caughtUp,
    failure,
    get position() {
      return position;
    },
    async syncToHead(maxWaitMs) {
      if (failed) throw failed;
      const head = await store.headPosition();
      if (head === 'start' || head <= position) return true;
      return new Promise<boolean>((resolve) => {
        // Bounded: a head outside the `mining-` streams is never delivered to this subscription.
        const timer = setTimeout(() => waiter.done(false), maxWaitMs);
        const waiter = {
          target: head,
          done: (reached: boolean) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(reached);
          },
        };
        waiters.add(waiter);
      });
    },
    async stop() {
      await subscription.stop();
      for (const waiter of waiters) waiter.done(false);
    },
  };
}

/** recordedAt − at of a stop, in ms (0 when either time is unreadable). */
export function stopLagMs(event: Extract<MiningEvent, { type: 'MiningStopped' }>, metadata: EventMetadata): number {
  const at = parseIso(event.data.at);
  const recordedAt = parseIso(metadata.recordedAt);
  return at === undefined || recordedAt === undefined ? 0 : recordedAt - at;
}
