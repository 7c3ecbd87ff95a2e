// A rebuild from the store is identical to what the live projector produced, on randomized
// histories driven through the real command handler (including configuration changes).
import { join } from 'node:path';
import t from 'tap';
import fc from 'fast-check';
import type { CommandRequest } from '../../src/commands/handler.js';
import { differencesOf } from '../../src/projections/ledger/audit.js';
import { replayStream, type LedgerSink } from '../../src/projections/ledger/ledger.js';
import { startProjector } from '../../src/projections/projector/projector.js';
import { rebuildReadModel, type RebuildProgress } from '../../src/projections/projector/rebuild.js';
import { dumpReadModel, MINUTE, SECOND, world } from './helpers.js';

const NOTHING: LedgerSink = { sessionStarted() {}, interval() {}, sessionEnded() {} };
const replacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value);

type Step =
  | { kind: 'command'; account: number; request: CommandRequest['type']; advanceMs: number }
  | { kind: 'reconfigure'; heartbeatTimeoutMs: number; maxSessionMs: number; rate: bigint };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('command' as const),
      account: fc.integer({ min: 0, max: 3 }),
      request: fc.constantFrom<CommandRequest['type']>('start', 'heartbeat', 'heartbeat', 'heartbeat', 'stop', 'expire'),
      advanceMs: fc.oneof(fc.integer({ min: 0, max: 70 * SECOND }), fc.integer({ min: 70 * SECOND, max: 20 * MINUTE })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reconfigure' as const),
      heartbeatTimeoutMs: fc.constantFrom(60 * SECOND, 5 * MINUTE),
      maxSessionMs: fc.constantFrom(0, 10 * MINUTE),
      rate: fc.constantFrom(25_000_000n, 1n, 99_999_999n),
    }),
  },
);

t.test('rebuild equals the live projection on randomized histories', async (t) => {
  let run = 0;
  const base = t.testdir();
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 50 }), async (steps) => {
      const w = await world(t, { dir: join(base, `run-${run++}`) });
      const settings = w.settings;
      const livePath = join(w.dir, 'live.db');
      const live = await startProjector({ store: w.store, readModelPath: livePath, maxPendingEvents: 3, flushIntervalMs: 1 });
      let head = 0n;
      for (const s of steps) {
        if (s.kind === 'reconfigure') {
          Object.assign(settings, { heartbeatTimeoutMs: s.heartbeatTimeoutMs, maxSessionMs: s.maxSessionMs, rateUnitsPerHour: s.rate });
          continue;
        }
        w.clock.advance(s.advanceMs);
        const position = await w.run(`acct-${s.account}`, { type: s.request });
        if (position > head) head = position;
      }
      t.ok(await live.readModel.waitForPosition(head, 10_000));
      for (let account = 0; account < 4; account++) {
        // And both agree with an independent replay of each stream (the auditor's path).
        const accountId = `acct-${account}`;
        const differences = differencesOf(await replayStream(w.store, accountId, NOTHING), live.readModel.account(accountId));
        if (differences.length) {
          t.same(differences, [], accountId);
          return false;
        }
      }
      await live.stop();
      await rebuildReadModel({ store: w.store, readModelPath: w.readModelPath });
      await w.store.close();
      const rebuilt = dumpReadModel(w.readModelPath);
      const projected = dumpReadModel(livePath);
      if (JSON.stringify(rebuilt, replacer) !== JSON.stringify(projected, replacer)) {
        t.same(rebuilt, projected);
        return false;
      }
      return true;
    }),
    { numRuns: 12 },
  );
  t.ok(run >= 12);
});


t.test('rebuild reports progress and replaces a read model it did not write, however broken', async (t) => {
  const w = await world(t);
  let head = 0n;
  for (let i = 0; i < 5; i++) {
    head = await w.run(`acct-${i}`, { type: 'start' });
    w.clock.advance(30 * SECOND);
    head = await w.run(`acct-${i}`, { type: 'heartbeat' });
  }
  const { writeFileSync } = await import('node:fs');
  writeFileSync(w.readModelPath, 'not a database at all');
  const seen: RebuildProgress[] = [];
  const result = await rebuildReadModel({ store: w.store, readModelPath: w.readModelPath, pageSize: 3, progressIntervalMs: 0, onProgress: (p) => seen.push(p) });
  t.equal(result.events, 10);
  t.equal(result.position, head);
  t.same(seen.at(-1), { ...seen.at(-1), phase: 'build', done: 10, total: 10, events: 10 });
  t.ok(seen.length >= 4, 'a report per page');
  t.ok(seen.every((p, i) => i === 0 || p.done >= seen[i - 1]!.done), 'progress only moves forward');
  const dump = dumpReadModel(w.readModelPath);
  t.equal(dump.accounts.length, 5);
  t.equal(dump.position, head);
});

t.test('a rebuild on parallel workers equals one on a single thread', async (t) => {
  const w = await world(t);
  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: 12 }, (_, i) => w.run(`acct-${i}`, { type: 'start' })));
    for (let beat = 0; beat < 4; beat++) {
      w.clock.advance(30 * SECOND);
      await Promise.all(Array.from({ length: 12 }, (_, i) => w.run(`acct-${i}`, { type: i % 3 === round ? 'stop' : 'heartbeat' })));
    }
    w.clock.advance(10 * MINUTE);
  }
  const single = join(w.dir, 'single.db');
  const one = await rebuildReadModel({ store: w.store, readModelPath: single, workers: 1 });
  const two = await rebuildReadModel({ store: w.store, readModelPath: w.readModelPath, workers: 2, pageSize: 7, flushEvery: 10 });
  t.equal(two.events, one.events);
  t.equal(two.position, one.position);
  const expected = dumpReadModel(single);
  t.same(dumpReadModel(w.readModelPath), expected);
  t.equal(expected.accounts.length, 12);
  const { readdirSync } = await import('node:fs');
  t.same(readdirSync(w.dir).filter((name) => name.includes('.rebuild-')), [], 'no scratch or part file left behind');
});

t.test('a rebuild told to stop leaves the live read model as it was', async (t) => {
  const w = await world(t);
  await Promise.all(Array.from({ length: 5 }, (_, i) => w.run(`acct-${i}`, { type: 'start' })));
  await rebuildReadModel({ store: w.store, readModelPath: w.readModelPath });
  const before = dumpReadModel(w.readModelPath);
  w.clock.advance(30 * SECOND);
  await Promise.all(Array.from({ length: 5 }, (_, i) => w.run(`acct-${i}`, { type: 'heartbeat' })));
  for (const workers of [1, 2]) {
    await t.rejects(
      rebuildReadModel({ store: w.store, readModelPath: w.readModelPath, workers, pageSize: 1, progressIntervalMs: 0, shouldStop: () => true }),
      { name: 'RebuildInterruptedError' },
    );
  }
  t.same(dumpReadModel(w.readModelPath), before);
});
