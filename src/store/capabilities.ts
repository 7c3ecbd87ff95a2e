// What an adapter can do beyond the port, declared on the store (`store.capabilities`) instead of
// being guessed from its shape. Each is implemented inside its adapter's folder; a consumer uses it
// when present and the port's generic reads otherwise. Which adapter declares what: docs/store.md.
import type { ChainState } from '../audit/chain.js';
import type { Actor, MiningEvent } from '../domain/events.js';
import type { RecordedEvent } from './port.js';

/** A reader of one partition of the accounts' events, opened on a worker thread. */
export interface PartitionReader {
  /** Stored events (not decoded: the worker decodes them) of this partition with after < position <= upTo, at most `limit`, in position order. */
  page(after: bigint, upTo: bigint, limit: number): RecordedEvent[];
  close(): void;
}

/**
 * Where a worker thread opens a PartitionReader: plain data (it crosses to the worker in
 * workerData). `module` is the URL of a module exporting `openPartitionReader(location, partition,
 * partitions)`; open it with `openPartition` below.
 */
export interface PartitionSource {
  module: string;
  location: string;
}

export interface StreamPage {
  /** Validated events in stream order. */
  events: MiningEvent[];
  /** Revision and position of the last of them (unset when there are none). */
  lastRevision: bigint | undefined;
  lastPosition: bigint | undefined;
  /** The hash chain after the page's events. */
  chain: ChainState;
  /** The metadata's recordedAt of event `i` (parsed on demand: only stops need it). */
  recordedAt(i: number): string;
  /** The actor of each BalanceAdjusted in the page, by index (the ledger names who adjusted). */
  actors?: Map<number, Actor>;
}

export interface StreamPagesOptions {
  /** Last position to replay (inclusive). */
  untilPosition?: bigint | null;
  /** Events in the first page (default 400); later ones hold about 96 KiB of text. */
  pageSize?: number;
  /** Pages read ahead of the one being folded (default 4). */
  ahead?: number;
}

export interface StoreCapabilities<E extends RecordedEvent = RecordedEvent> {
  /** A page of the whole log after a position, read synchronously (several times cheaper than readAll's iterator). */
  pages?: (after: bigint, limit: number, prefix?: string) => E[];
  /** Readers of one partition of the accounts each, for parallel rebuild workers. */
  partitions?: PartitionSource;
  /**
   * Pages of one long stream from revision `from` on, read and validated ahead on a worker thread,
   * up to the first event past `untilPosition`. An event that does not decode ends the pages with
   * decode's own error, after the events before it. Stopping early (break, throw) stops the worker.
   */
  streamPages?: (stream: string, from: bigint, chain: ChainState, options?: StreamPagesOptions) => AsyncGenerator<StreamPage, void, undefined>;
  /** Moves every committed event into the per-stream index now; resolves with how many it moved. */
  index?: () => Promise<number>;
  /** Why the store must not be trusted (a failed integrity check, a damaged page met), or null; readiness asks. */
  damage?: () => string | null;
}

/** Opens a partition reader of a store's `partitions` capability (on the worker thread that reads). */
export async function openPartition(source: PartitionSource, partition: number, partitions: number): Promise<PartitionReader> {
  const module = (await import(source.module)) as { openPartitionReader(location: string, partition: number, partitions: number): PartitionReader };
  return module.openPartitionReader(source.location, partition, partitions);
}
