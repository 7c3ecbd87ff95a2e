// SPEC §12 time travel: `replay --at` and `GET …/audit?at=` give the ledger as the store held it at a
// position or a time; a session open then is open, credited so far; past the head is the present.
import t from 'tap';
import { cli, history, storedEvents } from './helpers.js';
import { testApi } from '../api/helpers.js';
import { parseAt } from '../../src/audit/at.js';

t.test('replay --at a position: only events up to it; the session then open shows open, credited so far', async (t) => {
  const w = await history(t);
  const alice = storedEvents(w.store.path, 'mining-alice');
  const fifthBeat = alice[5]!;
  const result = await cli(w, ['replay', 'alice', '--json', '--at', String(fifthBeat.position)]);
  t.equal(result.code, 0, result.stderr);
  const ledger = JSON.parse(result.stdout);
  t.same(ledger.asOf, { at: String(fifthBeat.position), position: String(fifthBeat.position), compared: false });
  t.equal(ledger.events, 6);
  t.equal(ledger.streamRevision, '5');
  t.equal(ledger.sessions.length, 1);
  t.equal(ledger.sessions[0].stoppedAt, null, 'open at that moment');
  t.equal(ledger.sessions[0].creditedMs, 150_000, 'five heartbeats 30 s apart');
  t.equal(ledger.replayedBalanceUnits, String(Math.floor((150_000 * 25_000_000) / 3_600_000)));
  t.equal(ledger.matches, true);
  t.same(ledger.chain, { chained: 6, unchained: 0, broken: null });
  const table = await cli(w, ['replay', 'alice', '--at', String(fifthBeat.position)]);
  t.match(table.stdout, new RegExp(`As of ${fifthBeat.position}: events up to position ${fifthBeat.position}; not compared`));
  t.match(table.stdout, /still open; 5 heartbeats; credited 2m30s/);
});

t.test('replay --at a time: the events recorded at or before it', async (t) => {
  const w = await history(t);
  const alice = storedEvents(w.store.path, 'mining-alice');
  // Heartbeat 5 was recorded at 08:02:30; 08:02:45 lies between it and the sixth.
  const between = JSON.parse((await cli(w, ['replay', 'alice', '--json', '--at', '2026-03-01T08:02:45Z'])).stdout);
  t.equal(between.asOf.position, String(alice[5]!.position));
  t.equal(between.sessions[0].creditedMs, 150_000);
  const exact = JSON.parse((await cli(w, ['replay', 'alice', '--json', '--at', '2026-03-01T09:02:30.000+01:00'])).stdout);
  t.equal(exact.asOf.position, String(alice[5]!.position), 'a time with an offset; an event recorded exactly then is included');
  const before = JSON.parse((await cli(w, ['replay', 'alice', '--json', '--at', '2026-03-01T07:00:00Z'])).stdout);
  t.equal(before.events, 0, 'before the first event: nothing yet');
  t.same(before.sessions, []);
  t.equal(before.replayedBalanceUnits, '0');
});

t.test('--at at or past the head is the present ledger, compared with the projection', async (t) => {
  const w = await history(t);
  for (const at of ['999999', '2030-01-01T00:00:00Z']) {
    const result = await cli(w, ['replay', 'alice', '--json', '--at', at]);
    t.equal(result.code, 0);
    const ledger = JSON.parse(result.stdout);
    t.equal(ledger.asOf, undefined, `${at}: not historical`);
    t.equal(ledger.replayedBalanceUnits, '2083333', 'the whole session: 5 minutes credited');
    t.equal(ledger.sessions[0].reason, 'timeout');
    t.equal(ledger.matches, true);
  }
});

t.test('bad --at values are usage errors (exit 2) and print no ledger', async (t) => {
  const w = await history(t);
  for (const bad of ['yesterday', '-1', '1.5', '2026-02-31T00:00:00Z', '2026-03-01T08:00:00', '', '99999999999999999999']) {
    const result = await cli(w, ['replay', 'alice', '--at', bad]);
    t.equal(result.code, 2, `--at "${bad}"`);
    t.equal(result.stdout, '');
  }
  t.same(parseAt('2026-03-01T08:00Z'), { kind: 'time', ms: Date.UTC(2026, 2, 1, 8), text: '2026-03-01T08:00Z' });
  t.same(parseAt('0'), { kind: 'position', position: 0n, text: '0' });
});

t.test('GET …/audit?at= answers the ledger then; a bad value is 400 VALIDATION_FAILED', async (t) => {
  const api = await testApi(t);
  const started = await api.command('erin', 'start');
  api.clock.advance(30_000);
  await api.command('erin', 'heartbeat');
  api.clock.advance(30_000);
  const second = (await api.command('erin', 'heartbeat')).json();
  api.clock.advance(10_000);
  await api.command('erin', 'stop');
  const auditor = api.asRole('auditor');
  const atSecond = await api.inject({ method: 'GET', url: `/v1/accounts/erin/audit?at=${second.position}`, headers: auditor });
  t.equal(atSecond.statusCode, 200, atSecond.body);
  const ledger = atSecond.json();
  t.equal(ledger.sessions[0].stoppedAt, null, 'the session is open at that point');
  t.equal(ledger.sessions[0].creditedMs, 60_000);
  t.match(ledger.asOf, { position: second.position, compared: false });
  t.equal(ledger.chain.chained, 3);
  const atStart = await api.inject({ method: 'GET', url: `/v1/accounts/erin/audit?at=${new Date(api.clock.now() - 70_000).toISOString()}`, headers: auditor });
  t.equal(atStart.json().asOf.position, started.json().position, 'by time: the start only');
  const now = await api.inject({ method: 'GET', url: '/v1/accounts/erin/audit?at=2099-01-01T00:00:00Z', headers: auditor });
  t.equal(now.json().sessions[0].reason, 'user', 'past the head: the present ledger');
  t.equal(now.json().asOf, undefined);
  for (const bad of ['soon', '-5', '2026-13-01T00:00:00Z']) {
    const res = await api.inject({ method: 'GET', url: `/v1/accounts/erin/audit?at=${encodeURIComponent(bad)}`, headers: auditor });
    t.equal(res.statusCode, 400, bad);
    t.equal(res.json().code, 'VALIDATION_FAILED');
  }
  const empty = await api.inject({ method: 'GET', url: '/v1/accounts/erin/audit?at=', headers: auditor });
  t.equal(empty.statusCode, 400, 'an empty at');
});
