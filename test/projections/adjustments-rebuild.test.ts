// Adjustments in the projections: the live projector, a single-thread rebuild and a rebuild on
// parallel workers hold the same adjustment rows and balances, and the replay agrees to the unit.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { createAdjuster } from '../../src/commands/adjust.js';
import { uuidV7Generator } from '../../src/commands/clock.js';
import { auditAccount } from '../../src/projections/ledger/audit.js';
import { startProjector } from '../../src/projections/projector/projector.js';
import { rebuildReadModel } from '../../src/projections/projector/rebuild.js';
import { dumpReadModel, mine, world } from './helpers.js';

const uuid = (n: number) => `0190f0e0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

function adjustmentRows(path: string): unknown[] {
  const db = new Database(path, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    return db.prepare('SELECT * FROM adjustments ORDER BY account_id, seq').all();
  } finally {
    db.close();
  }
}

t.test('projector, rebuild and parallel rebuild agree on adjustments; replay matches', async (t) => {
  const w = await world(t);
  const adjuster = createAdjuster({ store: w.store, clock: w.clock, ids: uuidV7Generator(w.clock), onWritten: (id) => w.handler.forget(id) });
  const context = { actor: { kind: 'operator' as const, id: 'cli:test' }, correlationId: 'test' };
  for (let i = 0; i < 6; i++) {
    await mine(w, `acct-${i}`, 10, i % 2 === 0 ? 'stop' : 'open');
    const result = await adjuster.adjust(`acct-${i}`, { adjustmentId: uuid(i + 1), amountUnits: BigInt(-1000 * (i + 1)), reason: 'correction', note: `n${i}` }, context);
    t.equal(result.written, 1);
    // In the middle of a session for the odd accounts: the session goes on afterwards.
    if (i % 2 === 1) await mine(w, `acct-${i}`, 2, 'stop');
  }
  await adjuster.adjust('acct-new', { adjustmentId: uuid(99), amountUnits: 5n, reason: 'migration', note: 'opening', reference: 'r1' }, context);
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath });
  await projector.caughtUp;
  for (const accountId of ['acct-0', 'acct-1', 'acct-new']) {
    const ledger = await auditAccount({ store: w.store, readModel: projector.readModel, accountId });
    t.equal(ledger.matches, true, `${accountId}: replay = projection`);
    t.equal(ledger.adjustments.length, 1);
  }
  const page = projector.readModel.adjustments('acct-new', { limit: 10 });
  t.same(page.adjustments.map((a) => [a.adjustmentId, a.amountUnits, a.reference, a.actor.kind]), [[uuid(99), 5n, 'r1', 'operator']]);
  await projector.stop();
  const live = { model: dumpReadModel(w.readModelPath), adjustments: adjustmentRows(w.readModelPath) };
  t.equal(live.adjustments.length, 7);
  const single = join(w.dir, 'single.db');
  await rebuildReadModel({ store: w.store, readModelPath: single, workers: 1 });
  const parallel = join(w.dir, 'parallel.db');
  await rebuildReadModel({ store: w.store, readModelPath: parallel, workers: 2, pageSize: 7, flushEvery: 10 });
  for (const path of [single, parallel]) {
    t.same(dumpReadModel(path).accounts, live.model.accounts, 'same balances');
    t.same(adjustmentRows(path), live.adjustments, 'same adjustment rows');
  }
});
