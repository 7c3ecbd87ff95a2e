// Timestamps: strict ISO-8601 UTC with milliseconds, nothing a lenient Date.parse would guess at.
import fc from 'fast-check';
import t from 'tap';
import { formatDuration, parseIso, toIso } from '../../src/domain/time.js';

t.test('parses exactly the ISO-8601 UTC form with milliseconds', async (t) => {
  t.equal(parseIso('2026-03-01T08:00:00.000Z'), Date.UTC(2026, 2, 1, 8));
  t.equal(parseIso('1970-01-01T00:00:00.000Z'), 0);
  t.equal(parseIso('2028-02-29T23:59:59.999Z'), Date.UTC(2028, 1, 29, 23, 59, 59, 999), 'a leap day');
});

t.test('refuses every other shape and every impossible moment', async (t) => {
  const refused = [
    '2026-03-01T08:00:00Z', // no milliseconds
    '2026-03-01T08:00:00.0Z',
    '2026-03-01T08:00:00.0000Z',
    '2026-03-01T08:00:00.000+00:00', // an offset, even a zero one
    '2026-03-01T08:00:00.000', // local time
    '2026-03-01 08:00:00.000Z',
    '2026-03-01t08:00:00.000z',
    '2026-3-1T08:00:00.000Z',
    '2026-02-30T08:00:00.000Z', // Date.parse would roll this over to March 2
    '2027-02-29T00:00:00.000Z', // not a leap year
    '2026-03-01T24:00:00.000Z',
    '2026-03-01T08:60:00.000Z',
    '2026-03-01T08:00:60.000Z',
    '2026-13-01T08:00:00.000Z',
    '+012026-03-01T08:00:00.000Z',
    ' 2026-03-01T08:00:00.000Z',
    '2026-03-01T08:00:00.000Z\n',
    '1772352000000',
    '',
  ];
  for (const text of refused) t.equal(parseIso(text), undefined, `refuses ${JSON.stringify(text)}`);
});

t.test('round trip: toIso then parseIso is the identity on 4-digit years', async (t) => {
  const first = Date.parse('0000-01-01T00:00:00.000Z');
  const last = Date.parse('9999-12-31T23:59:59.999Z');
  fc.assert(fc.property(fc.integer({ min: first, max: last }), (ms) => parseIso(toIso(ms)) === ms));
  t.equal(toIso(Date.UTC(2026, 2, 1, 9, 5)), '2026-03-01T09:05:00.000Z');
});

t.test('durations for the auditor read like a person would write them', async (t) => {
  t.equal(formatDuration(0), '0ms');
  t.equal(formatDuration(250), '250ms');
  t.equal(formatDuration(30_000), '30s');
  t.equal(formatDuration(1_500), '1.5s');
  t.equal(formatDuration(300_000), '5m');
  t.equal(formatDuration(3_600_000), '1h');
  t.equal(formatDuration((12 * 60 + 44) * 60_000), '12h44m');
  t.equal(formatDuration(3_661_000), '1h1m1s');
  t.equal(formatDuration(59_999), '59.999s');
});

t.test('durations of a minute or more keep their milliseconds', async (t) => {
  // A gap of T + 1 ms used to read "5m", so the ledger said "gap 5m > timeout 5m".
  t.equal(formatDuration(300_001), '5m0.001s');
  t.equal(formatDuration(60_500), '1m0.5s');
  t.equal(formatDuration(3_600_030), '1h0.03s');
  t.equal(formatDuration(45_296_789), '12h34m56.789s');
});
