// A parallel rebuild worker: folds one partition of the accounts, up to a fixed position, into a
// file of its own with the same engine as the projector; the main thread merges the parts.
import { parentPort, workerData } from 'node:worker_threads';
import { createEngine } from './engine.js';
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
    const page = reader.page(after, upTo, data.pageSize);
    if (page.length === 0) break;
    engine.apply(page);
    if (engine.pendingEvents() >= data.flushEvery) engine.flush();
    after = page[page.length - 1]!.position;
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
