// rebuild --swap while a projector and a read-only follower keep answering: the file is replaced
// by rename, both move to it, the projector continues from its checkpoint, no read fails.
import { join } from 'node:path';
import t from 'tap';
import { Registry } from 'prom-client';
import { startProjector } from '../../src/projections/projector/projector.js';
import type { ReadModel } from '../../src/projections/read-model/read-model.js';
import { rebuildReadModel } from '../../src/projections/projector/rebuild.js';
import { fileIdentity } from '../../src/projections/read-model/schema.js';
import { openReadModel } from '../../src/projections/read-model/sqlite-read-model.js';
import { dumpReadModel, mine, SECOND, world } from './helpers.js';

/** Reads from every ReadModel on every turn of the event loop until stopped; collects failures. */
function keepReading(models: ReadModel[]): { stop(): Promise<{ reads: number; errors: unknown[] }> } {
  const errors: unknown[] = [];
  let reads = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const model of models) {
        try {
          model.account('alice');
          model.sessions('alice', { limit: 5 });
          model.activeSessions({ limit: 5 });
          reads++;
        } catch (error) {
          errors.push(error);
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { reads, errors };
    },
  };
}

t.test('rebuild --swap under load: projector and follower switch files without a failed read or a lost event', async (t) => {
  const w = await world(t);
  await mine(w, 'alice', 5, 'open');
  await mine(w, 'bob', 5, 'stop');
  const registry = new Registry();
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath, registry, swapCheckIntervalMs: 10 });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  const follower = openReadModel(w.readModelPath, { swapCheckIntervalMs: 0 });
  t.teardown(() => follower.close());
  const before = fileIdentity(w.readModelPath);
  const readers = keepReading([projector.readModel, follower]);

  // Heartbeats keep arriving while the rebuild runs and swaps.
  let writing = true;
  let head = 0n;
  const writer = (async () => {
    while (writing) {
      w.clock.advance(30 * SECOND);
      head = await w.run('alice', { type: 'heartbeat' });
    }
  })();
  const result = await rebuildReadModel({ store: w.store, readModelPath: w.readModelPath, swap: true, pageSize: 4 });
  for (let i = 0; i < 3; i++) {
    w.clock.advance(30 * SECOND);
    head = await w.run('alice', { type: 'heartbeat' });
  }
  writing = false;
  await writer;

  t.not(fileIdentity(w.readModelPath), before, 'the file at the path was replaced');
  t.ok(await projector.readModel.waitForPosition(head, 10_000), 'the projector continues on the new file');
  t.ok(await follower.waitForPosition(head, 10_000), 'the follower sees the new file');
  const { reads, errors } = await readers.stop();
  t.same(errors, [], `${reads} reads, none failed`);
  t.ok(result.position > 0n);
  t.match(await registry.metrics(), /mining_projector_swaps_total 1\b/);

  t.equal(projector.readModel.account('alice')!.position, head);
  t.equal(follower.account('alice')!.position, head);
  await projector.stop();
  const fresh = join(w.dir, 'fresh.db');
  await rebuildReadModel({ store: w.store, readModelPath: fresh });
  t.same(dumpReadModel(w.readModelPath), dumpReadModel(fresh), 'no event lost or applied twice across the swap');
});

t.test('a plain rebuild over a file a follower has open: the follower moves to the new file', async (t) => {
  const w = await world(t);
  const first = await mine(w, 'alice', 1, 'stop');
  await rebuildReadModel({ store: w.store, readModelPath: w.readModelPath });
  const follower = openReadModel(w.readModelPath, { swapCheckIntervalMs: 0 });
  t.teardown(() => follower.close());
  t.equal(follower.position(), first);
  const second = await mine(w, 'bob', 1, 'stop');
  await rebuildReadModel({ store: w.store, readModelPath: w.readModelPath });
  t.equal(follower.position(), second);
  t.equal(follower.account('bob')!.position, second);
});
