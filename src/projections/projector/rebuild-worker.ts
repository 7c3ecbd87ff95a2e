// A parallel rebuild worker: folds one partition of the accounts, up to a fixed position, into a
// file of its own with the same engine as the projector; the main thread merges the parts.
import { parentPort, workerData } from 'node:worker_threads';
import { createEngine } from './engine.js';
import { miningCodec } from '../../commands/codec.js';
import { accountOf } from '../../domain/events.js';
import { openPartition, type PartitionSource } from '../../store/capabilities.js';
import { openScratch } from '../read-model/schema.js';

export interface RebuildWorkerData {
  /** The store's `partitions` capability. */
  source: PartitionSource;
  partPath: string;
  partition: number;
  partitions: number;
  /** Decimal string: positions up to and including this one. */
  upTo: string;
  pageSize: number;
  flushEvery: number;
  cacheLimit: number;
}

export type RebuildWorkerMessage =
  | { kind: 'progress'; position: string; events: number }
  | { kind: 'done'; events: number };

async function run(data: RebuildWorkerData): Promise<void> {
  const upTo = BigInt(data.upTo);
  const reader = await openPartition(data.source, data.partition, data.partitions);
  const db = openScratch(data.partPath);
  const engine = createEngine(db, { cacheLimit: data.cacheLimit, guardCheckpoint: false });
  let after = 0n;
  let reported = Date.now();
  for (;;) {
    const stored = reader.page(after, upTo, data.pageSize);
    if (stored.length === 0) break;
    // A worker has no store object: the partition's stored events are decoded here, once. Other
    // streams (never written by the application) are skipped, as the engine would skip them.
    const page = [];
    for (const recorded of stored) if (accountOf(recorded.stream) !== undefined) page.push(miningCodec.decode(recorded));
    engine.apply(page);
    if (engine.pendingEvents() >= data.flushEvery) engine.flush();
    after = stored[stored.length - 1]!.position;
    if (Date.now() - reported >= 100) {
      reported = Date.now();
      parentPort!.postMessage({ kind: 'progress', position: after.toString(), events: Number(engine.totalEvents()) } satisfies RebuildWorkerMessage);
    }
  }
  engine.flush();
  const events = Number(engine.totalEvents());
  db.close();
  reader.close();
  parentPort!.postMessage({ kind: 'done', events } satisfies RebuildWorkerMessage);
}

await run(workerData as RebuildWorkerData);
