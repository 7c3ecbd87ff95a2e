// The ledger's words for each verdict, and the writer that repeats the last text only when the
// verdict it explains is the same.
import t from 'tap';
import type { Interval } from '../../src/domain/session.js';
import { intervalWhy, whyWriter } from '../../src/projections/ledger/interval-why.js';

const base: Interval = { from: 0, to: 30_000, ms: 30_000, creditedMs: 30_000, credited: true, verdict: 'within', end: 'heartbeat', timeoutMs: 300_000, maxSessionMs: 0 };

t.test('every verdict in words', async (t) => {
  t.equal(intervalWhy(base), 'heartbeat within timeout 5m');
  t.equal(intervalWhy({ ...base, end: 'user stop' }), 'user stop within timeout 5m');
  t.equal(intervalWhy({ ...base, verdict: 'offline', ms: 300_001, creditedMs: 0, credited: false }), 'gap 5m0.001s > timeout 5m: offline, not credited');
  t.equal(intervalWhy({ ...base, verdict: 'clipped', maxSessionMs: 600_000 }), 'heartbeat within timeout, clipped at max session length 10m');
  t.equal(intervalWhy({ ...base, verdict: 'timeout', end: 'stop' }), 'no heartbeat within timeout 5m: offline until the deadline, not credited');
  t.equal(intervalWhy({ ...base, verdict: 'max_duration', end: 'stop', maxSessionMs: 3_600_000 }), 'max session length 1h reached: not credited after the last heartbeat');
});

t.test('whyWriter gives the same text as intervalWhy for any sequence', async (t) => {
  const why = whyWriter();
  const sequence: Interval[] = [
    base, base, { ...base, end: 'user stop' },
    { ...base, verdict: 'offline', ms: 400_000 }, { ...base, verdict: 'offline', ms: 500_000 },
    { ...base, timeoutMs: 60_000 }, { ...base, verdict: 'clipped', maxSessionMs: 1000 }, { ...base, verdict: 'clipped', maxSessionMs: 2000 },
    { ...base, verdict: 'timeout', end: 'stop' }, base,
  ];
  for (const interval of sequence) t.equal(why(interval), intervalWhy(interval), `${interval.verdict} ${interval.end} ${interval.ms}`);
});
