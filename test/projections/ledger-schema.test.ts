// The ledger's one schema (src/projections/ledger/schema.ts) against what is actually printed: the
// streamed `replay --json` printer is hand-written, so its output is checked here, for a ledger with
// sessions (closed and open), adjustments, time travel (asOf) and a broken hash chain.
import t, { type Test } from 'tap';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseIso } from '../../src/domain/time.js';
import { auditAccount } from '../../src/projections/ledger/audit.js';
import { AuditLedger } from '../../src/projections/ledger/schema.js';
import { openReadModel } from '../../src/projections/read-model/sqlite-read-model.js';
import { cli, storedEvents, tamperStore } from '../audit/helpers.js';
import { mine, world, type World } from './helpers.js';

// The ledger's instants are strict ISO-8601 UTC with milliseconds; TypeBox checks no format it is not told.
FormatRegistry.Set('date-time', (text) => parseIso(text) !== undefined);

/** Every way `value` departs from the schema, as "path: message" lines (none when it conforms). */
const errorsOf = (value: unknown) => [...Value.Errors(AuditLedger, value)].map((e) => `${e.path}: ${e.message}`);

async function printed(t: Test, w: World, argv: string[], code = 0): Promise<Record<string, any>> {
  const result = await cli(w, ['replay', ...argv, '--json']);
  t.equal(result.code, code, result.stderr + result.stdout.slice(-600));
  return JSON.parse(result.stdout);
}

t.test('the printed ledger validates: closed sessions, adjustments, an open session, time travel, a broken chain', async (t) => {
  const w = await world(t);
  await mine(w, 'alice', 3, 'offline');
  await mine(w, 'alice', 1, 'stop');
  const adjust = await cli(w, ['adjust', 'alice', '--amount', '-0.01', '--reason', 'correction', '--note', 'over-accrual', '--reference', 'T-1']);
  t.equal(adjust.code, 0, adjust.stderr);
  await mine(w, 'alice', 1, 'open');

  const present = await printed(t, w, ['alice']);
  t.same(present.sessions.map((s: { reason: string | null }) => s.reason), ['timeout', 'user', null], 'three sessions, the last open');
  t.equal(present.adjustments.length, 1);
  t.equal(present.adjustments[0].amountUnits, '-1000000');
  t.equal(present.chain.broken, null, 'intact before the tampering');
  t.same(errorsOf(present), [], 'the present ledger conforms');

  const alice = storedEvents(w.store.path, 'mining-alice');
  const midway = alice[3]!.position;
  const past = await printed(t, w, ['alice', '--at', String(midway)]);
  t.same(past.asOf, { at: String(midway), position: String(midway), compared: false });
  t.equal(past.sessions[0].stoppedAt, null, 'open at that point');
  t.same(errorsOf(past), [], 'the time-travel ledger conforms');

  // The object form (GET …/audit without streaming) is typed by the same schema and conforms too.
  const readModel = await openReadModel(w.readModelPath);
  t.teardown(() => readModel.close());
  t.same(errorsOf(await auditAccount({ store: w.store, readModel, accountId: 'alice' })), [], 'auditAccount conforms');

  tamperStore(w.store.path, `UPDATE events SET data = json_set(data, '$.at', '${new Date(parseIso(JSON.parse(alice[2]!.data).at)! + 1).toISOString()}') WHERE stream = 'mining-alice' AND revision = 2`);
  const broken = await printed(t, w, ['alice'], 1);
  t.match(broken.chain.broken, { stream: 'mining-alice', revision: '2' });
  t.same(errorsOf(broken), [], 'the broken-chain ledger conforms');
});

t.test('the check can fail: a field the schema does not know, a missing one, a wrong word', async (t) => {
  const w = await world(t);
  await mine(w, 'bob', 1, 'stop');
  const ledger = await printed(t, w, ['bob']);
  t.same(errorsOf(ledger), []);
  t.not(errorsOf({ ...ledger, extra: 1 }).length, 0, 'an unknown field');
  const { chain: _chain, ...withoutChain } = ledger;
  t.not(errorsOf(withoutChain).length, 0, 'a missing field');
  t.not(errorsOf({ ...ledger, sessions: [{ ...ledger.sessions[0], reason: 'tired' }] }).length, 0, 'a stop reason SPEC does not name');
  t.not(errorsOf({ ...ledger, sessions: [{ ...ledger.sessions[0], startedAt: '2026-03-01T08:00:00Z' }] }).length, 0, 'an instant without ms');
  t.same(errorsOf({ ...ledger, sessions: [{ ...ledger.sessions[0], stopRecordedAt: null }] }), [], 'null where the schema allows it');
});
