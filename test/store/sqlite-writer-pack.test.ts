// The writer thread's wire format: appends and outcomes packed into strings come back unchanged,
// whatever characters the fields hold.
import t from 'tap';
import { outcomeList, packBatch, packOutcomes, unpackBatch, unpackOutcome, type AppendOutcome, type AppendRequest } from '../../src/store/sqlite/writer.js';

t.test('a batch of appends round-trips, separators and non-BMP characters included', async (t) => {
  const batch: AppendRequest[] = [
    { stream: 'a|b,c', expected: 'no_stream', events: [{ id: 'x,|', type: 'T😀', data: '{"a":"|,"}', metadata: '' }, { id: 'e', type: '', data: '1', metadata: '{}' }] },
    { stream: 'empty', expected: 5n, events: [] },
    { stream: 's', expected: 'any', events: [{ id: 'i', type: 't', data: 'd', metadata: 'm' }] },
    { stream: 's2', expected: 'stream_exists', events: [{ id: 'i2', type: 't', data: 'd', metadata: 'm' }] },
    { stream: 's3', expected: 9007199254740993n, events: [{ id: 'i3', type: 't', data: 'd', metadata: 'm' }] },
  ];
  t.same(unpackBatch(packBatch(batch)), batch);
  t.same(unpackBatch(packBatch([])), []);
});

t.test('outcomes round-trip, as decimals or with messages', async (t) => {
  const numeric: AppendOutcome[] = [
    { ok: true, nextExpectedRevision: 3n, position: 9007199254740993n, written: true },
    { ok: true, nextExpectedRevision: 0n, position: 1n },
    { ok: false, conflict: true, actual: 'no_stream' },
    { ok: false, conflict: true, actual: 7n },
  ];
  const packed = packOutcomes(numeric);
  t.type(packed, 'string');
  const list = outcomeList(packed);
  t.same(numeric.map((_, i) => unpackOutcome(list, i)), numeric);
  const mixed: AppendOutcome[] = [...numeric, { ok: false, conflict: false, invalid: true, message: 'a,b' }, { ok: false, conflict: false, invalid: false, message: 'x' }];
  const mixedList = outcomeList(packOutcomes(mixed));
  t.same(mixed.map((_, i) => unpackOutcome(mixedList, i)), mixed);
  const slice = outcomeList(packOutcomes(mixed, 1, 3));
  t.same([0, 1].map((i) => unpackOutcome(slice, i)), mixed.slice(1, 3));
});
