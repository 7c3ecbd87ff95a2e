// SPEC §10 `adjust` and `export` as real processes: records, repeats and refusals; the CSV
// (RFC 4180) round-trips through csv-parse and its totals per account match the ledger.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { adjustments, cli, cliHere, envOf } from './fixtures/ledger-ops.js';

// Each case starts real processes under the TypeScript loader: slow on a busy machine, so this file
// gets more than the suite's default 120 s.
t.setTimeout(600_000);

t.test('adjust: records, repeats, refuses, and checks its flags', async (t) => {
  const dir = t.testdir();
  const env = envOf(dir);
  const id = '0190f0e0-0000-7000-8000-00000000a001';
  const base = ['adjust', 'alice', '--amount', '12.5', '--reason', 'migration', '--note', 'opening balance', '--id', id];
  const first = await cli(base, env);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, `adjustment ${id} recorded`);
  t.match(first.stdout, 'balance: 12.50000000 (1250000000 units)');
  const repeat = await cli(base, env);
  t.equal(repeat.code, 0);
  t.match(repeat.stdout, 'already present (nothing written)');
  const conflict = await cli([...base.slice(0, 3), '12.6', ...base.slice(4)], env);
  t.equal(conflict.code, 2);
  t.match(conflict.stderr, 'ADJUSTMENT_CONFLICT');
  const over = await cli(['adjust', 'alice', '--amount', '-12.50000001', '--reason', 'correction', '--note', 'n'], env);
  t.equal(over.code, 2);
  t.match(over.stderr, 'INSUFFICIENT_BALANCE');
  const generated = await cli(['adjust', 'alice', '--amount', '-7.64', '--reason', 'correction', '--note', 'offline over-accrual'], env);
  t.equal(generated.code, 0, generated.stderr);
  t.match(generated.stdout, /adjustment [0-9a-f-]{36} recorded/, 'a generated id is printed');
  t.match(generated.stdout, 'balance: 4.86000000');
  for (const bad of [
    ['adjust', 'alice', '--reason', 'correction', '--note', 'n'],
    ['adjust', 'alice', '--amount', '0', '--reason', 'correction', '--note', 'n'],
    ['adjust', 'alice', '--amount', '-0', '--reason', 'correction', '--note', 'n'],
    ['adjust', 'alice', '--amount', '1e3', '--reason', 'correction', '--note', 'n'],
    ['adjust', 'alice', '--amount', '1', '--reason', 'bonus', '--note', 'n'],
    ['adjust', 'alice', '--amount', '1', '--reason', 'correction'],
    ['adjust', 'alice', '--amount', '1', '--reason', 'correction', '--note', 'x'.repeat(501)],
    ['adjust', 'alice', '--amount', '1', '--reason', 'correction', '--note', 'n', '--id', 'nope'],
    ['adjust', 'alice', '--amount', '1', '--reason', 'correction', '--note', 'n', '--reference', 'r'.repeat(201)],
    ['adjust', 'bad id!', '--amount', '1', '--reason', 'correction', '--note', 'n'],
  ]) {
    t.equal((await cliHere(bad, env)).code, 2, bad.join(' '));
  }
  t.equal((await adjustments(dir)).length, 2, 'only the two good adjustments');
});

t.test('export: CSV (RFC 4180) round-trips through csv-parse; totals per account match the ledger; NDJSON and filters', async (t) => {
  const dir = t.testdir();
  const env = envOf(dir);
  const id = '0190f0e0-0000-7000-8000-00000000a001';
  const note = 'a note with, a comma, "quotes"\nand a line break';
  t.equal((await cli(['adjust', 'alice', '--amount', '3', '--reason', 'goodwill', '--note', note, '--reference', 'R,1', '--id', id], env)).code, 0);
  t.equal((await cli(['adjust', 'bob', '--amount', '1.00000001', '--reason', 'migration', '--note', 'n'], env)).code, 0);
  t.equal((await cli(['adjust', 'alice', '--amount', '-0.5', '--reason', 'reversal', '--note', 'undo part'], env)).code, 0);
  const output = join(dir, 'out.csv');
  const res = await cli(['export', '--output', output], env);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stderr, 'exported 3 rows');
  const text = readFileSync(output, 'utf8');
  t.ok(text.includes('\r\n'), 'CRLF record ends');
  const records = parse(text, { columns: true }) as Record<string, string>[];
  t.equal(records.length, 3);
  t.equal(records[0]!.note, note, 'the note survives the round trip');
  t.equal(records[0]!.reference, 'R,1');
  t.same(records.map((r) => r.time), [...records.map((r) => r.time)].sort(), 'ordered by time');
  const totals = new Map<string, bigint>();
  for (const r of records) totals.set(r.accountId!, (totals.get(r.accountId!) ?? 0n) + BigInt(r.earnedUnits || r.amountUnits!));
  for (const account of ['alice', 'bob']) {
    const ledger = JSON.parse((await cli(['replay', account, '--json'], env)).stdout);
    t.equal(totals.get(account)!.toString(), ledger.replayedBalanceUnits, `${account}: export total = ledger balance`);
  }
  const nd = await cli(['export', '--format', 'ndjson', '--account', 'bob'], env);
  const rows = nd.stdout.trim().split('\n').map((line) => JSON.parse(line));
  t.same(rows.map((r) => [r.kind, r.accountId, r.amountUnits]), [['adjustment', 'bob', '100000001']]);
  const none = await cli(['export', '--to', '2000-01-01'], env);
  t.equal(none.stdout.trim(), 'kind,time,accountId,sessionId,startedAt,stoppedAt,reason,creditedMs,earnedUnits,adjustmentId,amountUnits,note,reference,actor,balanceChange', 'only the header');
  for (const bad of [['export', '--from', 'yesterday'], ['export', '--from', '2026-02-01', '--to', '2026-01-01'], ['export', '--format', 'xls'],
    ['export', '--account', 'bad id!'], ['export', '--output', join(dir, 'no', 'such', 'dir.csv')]]) {
    t.equal((await cliHere(bad, env)).code, 2, bad.join(' '));
  }
});
