// SPEC §12 tamper evidence: every event the handler writes is chained to the one before it in its
// stream; replay and verify follow the chain and name the first broken link, whatever was changed
// directly in the SQLite file.
import t from 'tap';
import { ChainFollower, chainMetadata, eventHash } from '../../src/audit/chain.js';
import { encode, type MiningRecord } from '../../src/commands/codec.js';
import { validateMetadata } from '../../src/domain/events.js';
import { replayStream, type LedgerSink } from '../../src/projections/ledger/ledger.js';
import { cli, history, longChainedSession, storedEvents, tamperStore } from './helpers.js';
import { DAY0, world } from '../projections/helpers.js';

const HEX64 = /^[0-9a-f]{64}$/;
const NOTHING: LedgerSink = { sessionStarted() {}, interval() {}, sessionEnded() {} };

/** Replays up to the stream's event at `revision` (inclusive), by its position. */
async function totalsUntil(w: { store: import('../../src/store/sqlite/store.js').SqliteEventStore<MiningRecord> }, revision: bigint) {
  for await (const recorded of w.store.readStream('mining-long', { fromRevision: revision, maxCount: 1 })) {
    return replayStream(w.store, 'long', NOTHING, recorded.position);
  }
  throw new Error('no such revision');
}

t.test('every event the handler writes carries hash and prevHash, linked in stream order', async (t) => {
  const w = await history(t);
  const events = storedEvents(w.store.path, 'mining-alice');
  t.equal(events.length, 12, 'start, 10 heartbeats, the timeout stop');
  let prev: string | null = null;
  for (const stored of events) {
    const metadata = JSON.parse(stored.metadata);
    t.match(metadata.hash, HEX64);
    t.equal(metadata.prevHash, prev, `revision ${stored.revision} links to the one before`);
    t.equal(eventHash({ stream: 'mining-alice', revision: stored.revision, type: stored.type, data: JSON.parse(stored.data), metadata }), metadata.hash);
    prev = metadata.hash;
  }
  t.equal(JSON.parse(events[0]!.metadata).prevHash, null, 'revision 0 has prevHash null');
});

t.test('the hash is over the canonical form: key order and spacing of the stored JSON do not matter', async (t) => {
  const data = { sessionId: '0190f0e0-0000-7000-8000-000000000001', at: '2026-03-01T10:00:00.000Z' };
  const metadata = chainMetadata('mining-x', 3n, 'Heartbeat', data, { schemaVersion: 1, recordedAt: data.at, correlationId: 'c', actor: { kind: 'user', id: 'x' } }, null);
  const reordered = { at: data.at, sessionId: data.sessionId };
  t.equal(eventHash({ stream: 'mining-x', revision: 3, type: 'Heartbeat', data: reordered, metadata: JSON.parse(JSON.stringify(metadata, null, 2)) }), metadata.hash);
  t.not(eventHash({ stream: 'mining-x', revision: 4n, type: 'Heartbeat', data, metadata }), metadata.hash, 'the revision is covered');
  t.not(eventHash({ stream: 'mining-y', revision: 3n, type: 'Heartbeat', data, metadata }), metadata.hash, 'the stream is covered');
  t.not(eventHash({ stream: 'mining-x', revision: 3n, type: 'Heartbeat', data, metadata: { ...metadata, prevHash: 'a'.repeat(64) } }), metadata.hash, 'prevHash is covered');
  t.ok(validateMetadata(metadata), 'the metadata schema accepts the two fields');
  t.throws(() => validateMetadata({ ...metadata, hash: 'XYZ' }), /metadata \/hash/, 'a hash that is not lowercase hex SHA-256 is refused on read');
});

t.test('an untouched store is clean: replay and verify exit 0 and say the chain is intact', async (t) => {
  const w = await history(t);
  const replay = await cli(w, ['replay', 'alice']);
  t.equal(replay.code, 0, replay.stderr);
  t.match(replay.stdout, /hash chain intact \(12 events chained\)/);
  const json = JSON.parse((await cli(w, ['replay', 'alice', '--json'])).stdout);
  t.same(json.chain, { chained: 12, unchained: 0, broken: null });
  const verify = await cli(w, ['verify']);
  t.equal(verify.code, 0, verify.stdout);
  t.match(verify.stdout, /hash chains: 18 events chained, 0 unchained \(written before the chain\), 0 broken/);
});

t.test('events from before the chain are reported as unchained, and new events chain on from them', async (t) => {
  const w = await world(t);
  const context = { actor: { kind: 'user' as const, id: 'old' }, correlationId: 'legacy' };
  const sessionId = '0190f0e0-0000-7000-8000-0000000000aa';
  const start = { type: 'MiningStarted' as const, data: { sessionId, accountId: 'old', at: '2026-03-01T07:00:00.000Z', rateUnitsPerHour: '25000000', heartbeatTimeoutMs: 300000, maxSessionMs: 0 } };
  const beat = { type: 'Heartbeat' as const, data: { sessionId, at: '2026-03-01T07:00:30.000Z' } };
  // Written as the first release wrote them: no hash, no prevHash.
  await w.store.append('mining-old', [encode(start, '0190f0e0-0000-7000-8000-000000000001', start.data.at, context),
    encode(beat, '0190f0e0-0000-7000-8000-000000000002', beat.data.at, context)], 'no_stream');
  w.clock.set(Date.parse('2026-03-01T07:01:00.000Z'));
  await w.run('old', { type: 'heartbeat' });
  await w.run('old', { type: 'stop' });
  const events = storedEvents(w.store.path, 'mining-old');
  const legacy = { stream: 'mining-old', revision: 1, type: 'Heartbeat', data: JSON.parse(events[1]!.data), metadata: JSON.parse(events[1]!.metadata) };
  t.equal(JSON.parse(events[2]!.metadata).prevHash, eventHash(legacy), 'the first chained event links to the hash the unchained one would have');
  const replay = await cli(w, ['replay', 'old']);
  t.equal(replay.code, 0, replay.stdout);
  t.match(replay.stdout, /hash chain intact \(2 events chained, 2 unchained from before the chain\)/);
  const verify = await cli(w, ['verify']);
  t.equal(verify.code, 0, verify.stdout);
  t.match(verify.stdout, /2 events chained, 2 unchained/);
  tamperStore(w.store.path, `UPDATE events SET data = json_set(data, '$.at', '2026-03-01T07:00:40.000Z') WHERE stream = 'mining-old' AND revision = 1`);
  const after = await cli(w, ['replay', 'old']);
  t.equal(after.code, 1, 'an unchained event edited under a chained one breaks the link after it');
  t.match(after.stdout, /BROKEN at mining-old@2 .*prevHash/);
});

t.test('the follower: a stream that does not start at revision 0 and one out of order', async (t) => {
  const base = { type: 'Heartbeat', data: {}, metadata: {} };
  const late = new ChainFollower('mining-x');
  late.follow({ ...base, stream: 'mining-x', revision: 2n, position: 9n });
  t.match(late.broken?.what, /starts at revision 2, not 0/);
  const back = new ChainFollower('mining-x');
  back.follow({ ...base, stream: 'mining-x', revision: 0n, position: 1n });
  back.follow({ ...base, stream: 'mining-x', revision: 0n, position: 2n });
  t.match(back.broken?.what, /revisions are out of order/);
  t.equal(back.unchained, 1);
});

t.test('a chained stream longer than the first read is followed on the reader thread, and a break there is found', async (t) => {
  const w = await world(t);
  await longChainedSession(w, 'long', 1200, DAY0);
  const totals = () => replayStream(w.store, 'long', NOTHING);
  t.same((await totals()).chain, { chained: 1202, unchained: 0, broken: null });
  tamperStore(w.store.path, `UPDATE events SET data = json_set(data, '$.at', '2026-03-01T13:00:00.000Z') WHERE stream = 'mining-long' AND revision = 1100`);
  const { chain } = await totals();
  t.match(chain, { chained: 1100, broken: { stream: 'mining-long', revision: 1100n, what: /its type, data or metadata was changed/ } });
  const until = await totalsUntil(w, 1050n);
  t.same(until.chain, { chained: 1051, unchained: 0, broken: null }, 'a replay that stops before the edit finds nothing');
});
