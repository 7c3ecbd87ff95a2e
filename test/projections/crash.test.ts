// kill -9 of a projector at any instant loses and duplicates nothing: after every crash the file
// holds exactly the projection of the events up to its checkpoint, and a restart completes it.
import { join } from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { createEngine } from '../../src/projections/projector/engine.js';
import { openScratch, openWritable } from '../../src/projections/read-model/schema.js';
import { startProjector } from '../../src/projections/projector/projector.js';
import type { SqliteEventStore } from '../../src/store/sqlite/store.js';
import { exited, spawnTs } from './fixtures/spawn.js';
import { dumpReadModel, SECOND, world, type World } from './helpers.js';
import type { MiningRecord } from '../../src/commands/codec.js';

/** 30 miners for 200 ticks of 30 s: heartbeats, with stops and restarts spread over time. */
async function busyHistory(w: World): Promise<bigint> {
  const accounts = Array.from({ length: 30 }, (_, i) => `miner-${i}`);
  let head = 0n;
  for (let tick = 0; tick < 200; tick++) {
    const positions = await Promise.all(accounts.map((id, i) => {
      const phase = (tick + i * 7) % 40;
      return w.run(id, { type: tick === 0 || phase === 1 ? 'start' : phase === 0 ? 'stop' : 'heartbeat' });
    }));
    for (const p of positions) if (p > head) head = p;
    w.clock.advance(30 * SECOND);
  }
  return head;
}

/** The projection of exactly the events up to `position`, built with the engine in one go. */
function projectionUpTo(store: SqliteEventStore<MiningRecord>, path: string, position: bigint): ReturnType<typeof dumpReadModel> {
  const db = openScratch(path);
  const engine = createEngine(db);
  for (let after = 0n; after < position;) {
    const page = store.capabilities.pages(after, 500).filter((e) => e.position <= position);
    if (page.length === 0) break;
    engine.apply(page);
    after = page[page.length - 1]!.position;
  }
  engine.flush();
  db.close();
  return dumpReadModel(path);
}

function checkpointOf(path: string): bigint {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
    db.defaultSafeIntegers(true);
    try {
      return (db.prepare('SELECT position FROM checkpoint').get() as { position: bigint } | undefined)?.position ?? 0n;
    } finally {
      db.close();
    }
  } catch {
    return -1n; // busy (the child is committing) or not created yet
  }
}

async function untilCheckpointPasses(path: string, target: bigint, child: ReturnType<typeof spawnTs>): Promise<bigint> {
  for (;;) {
    const position = checkpointOf(path);
    if (position >= target || child.exitCode !== null) return position;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

t.test('a projector killed with -9 again and again ends with exactly the live projection', async (t) => {
  const w = await world(t);
  const head = await busyHistory(w);
  t.ok(head > 4000n, `history of ${head} events`);
  const crashPath = join(w.dir, 'crash.db');
  let previous = 0n;
  for (const round of [1, 2, 3, 4]) {
    const child = spawnTs('./projector-child.ts', [w.store.path, crashPath, '13']);
    const done = exited(child);
    // Killed as soon as it has committed something new: in the middle of its following transactions.
    await untilCheckpointPasses(crashPath, previous + 1n, child);
    child.kill('SIGKILL');
    const result = await done;
    t.equal(result.signal, 'SIGKILL', result.stderr);
    // Open (and so roll back any half-written transaction) the way a restarted projector would.
    openWritable(crashPath).db.close();
    const snapshot = dumpReadModel(crashPath);
    t.ok(snapshot.position > previous, `round ${round}: checkpoint ${snapshot.position} moved on from ${previous}`);
    const expected = projectionUpTo(w.store, join(w.dir, `expected-${round}.db`), snapshot.position);
    t.same(snapshot, expected, `after a kill at checkpoint ${snapshot.position}: exactly the events up to it`);
    previous = snapshot.position;
  }
  const last = await startProjector({ store: w.store, readModelPath: crashPath });
  await last.caughtUp;
  await last.stop();
  const live = await startProjector({ store: w.store, readModelPath: w.readModelPath });
  await live.caughtUp;
  await live.stop();
  t.same(dumpReadModel(crashPath), dumpReadModel(w.readModelPath), 'restarted after four crashes = never crashed');
  t.equal(dumpReadModel(crashPath).position, head);
});
