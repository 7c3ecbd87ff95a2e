// SPEC §10 `import` as a real process: bad lines named (exit 2, nothing written), dry run, rerun,
// and kill -9 in the middle followed by a rerun that completes without duplicates.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { importAdjustmentId } from '../../src/migration/import.js';
import { adjustments, cli, cliHere, envOf } from './fixtures/ledger-ops.js';
import { exited, spawnTs } from './fixtures/spawn.js';

// Each case starts real processes under the TypeScript loader: slow on a busy machine, so this file
// gets more than the suite's default 120 s.
t.setTimeout(600_000);

t.test('import: a file with bad lines names each one, exits 2 and writes nothing', async (t) => {
  const dir = t.testdir();
  const env = envOf(dir);
  const file = join(dir, 'legacy.csv');
  writeFileSync(file, [
    'accountId,balance,reference',
    'alice,7.88,row-1',
    'bad id!,1,',
    'bob,-1,',
    'carol,1e3,',
    'dave,0.000000001,',
    'alice,2,',
    'erin,1,"a ""quoted"", reference"',
    'frank,1',
    'gina,,',
    '',
  ].join('\n'));
  const res = await cli(['import', file], env);
  t.equal(res.code, 2, res.stderr);
  for (const line of [3, 4, 5, 6, 7, 9, 10]) t.match(res.stderr, `${file}:${line}:`, `line ${line} is named`);
  t.notMatch(res.stderr, `${file}:8:`, 'a quoted reference with commas is a good line');
  t.match(res.stderr, /already has a row \(line 2\)/);
  t.match(res.stderr, /7 bad lines .* nothing written/);
  t.same(await adjustments(dir), [], 'nothing written');
  const header = join(dir, 'header.csv');
  writeFileSync(header, 'account,amount\nalice,1\n');
  t.equal((await cliHere(['import', header], env)).code, 2, 'a wrong header');
  const ndjson = join(dir, 'bad.ndjson');
  writeFileSync(ndjson, '{"accountId":"alice","balance":"1"}\n{"accountId":"bob","balance":1}\nnot json\n{"accountId":"c","balance":"1","x":1}\n');
  const nd = await cliHere(['import', ndjson], env);
  t.equal(nd.code, 2);
  t.match(nd.stderr, /:2: balance must be a string/);
  t.match(nd.stderr, /:3: not valid JSON/);
  t.match(nd.stderr, /:4: unknown field "x"/);
  t.equal((await cliHere(['import', join(dir, 'missing.csv')], env)).code, 2, 'a missing file');
  t.equal((await cliHere(['import', file, '--format', 'xml'], env)).code, 2, 'an unknown format');
});

t.test('import: dry run writes nothing; the import writes each row once; a rerun writes nothing', async (t) => {
  const dir = t.testdir();
  const env = envOf(dir);
  const file = join(dir, 'legacy.ndjson');
  writeFileSync(file, '{"accountId":"alice","balance":"7.88","reference":"row-1"}\n{"accountId":"bob","balance":"0.5"}\n\n{"accountId":"carol","balance":"0"}\n');
  const dry = await cli(['import', file, '--dry-run'], env);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /dry run: nothing written\nrows: 3\naccounts: 3\ntotal: 8\.38000000 \(838000000 units\)\nwould write: 2\nalready present: 0/);
  t.same(await adjustments(dir), []);
  const first = await cli(['import', file], env);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /written: 2\nalready present: 0\nzero balance \(nothing to write\): 1/);
  t.match(first.stderr, /import: 2\/2 rows/, 'plain progress lines when not on a terminal');
  const again = await cli(['import', file], env);
  t.match(again.stdout, /written: 0\nalready present: 2/);
  const written = await adjustments(dir);
  t.same(written.map((a) => [a.accountId, a.amountUnits, a.actor]), [['alice', '788000000', 'operator:cli:tester'], ['bob', '50000000', 'operator:cli:tester']]);
  t.equal(written[0]!.id, importAdjustmentId({ accountId: 'alice', balanceUnits: 788_000_000n, reference: 'row-1' }), 'UUIDv5 over the row');
  const replay = await cli(['replay', 'alice', '--json'], env);
  t.equal(replay.code, 0);
  const ledger = JSON.parse(replay.stdout);
  t.equal(ledger.adjustedUnits, '788000000');
  t.equal(ledger.adjustments[0].reason, 'migration');
  t.equal(ledger.adjustments[0].reference, 'row-1');
  t.equal(ledger.replayedBalanceUnits, '788000000');
});

t.test('import: kill -9 in the middle, then the same import completes without duplicates', async (t) => {
  const dir = t.testdir();
  const env = envOf(dir);
  const file = join(dir, 'many.csv');
  const rows = 20_000;
  const lines = ['accountId,balance'];
  for (let i = 0; i < rows; i++) lines.push(`acct-${i},${(i % 1000) + 1}.5`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const child = spawnTs('./cli.ts', ['import', file, '--concurrency', '64'], env);
  const killed = new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      // The first progress line comes after the first thousand rows are durable.
      if (/import: \d+\/20000 rows/.test(chunk.toString())) {
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  const done = exited(child);
  await killed;
  const crash = await done;
  t.equal(crash.signal, 'SIGKILL', 'killed mid-import');
  const before = (await adjustments(dir)).length;
  t.ok(before > 0 && before < rows, `part was written before the kill (${before})`);
  const rerun = await cli(['import', file], env);
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stdout, `written: ${rows - before}\nalready present: ${before}\n`);
  const after = await adjustments(dir);
  t.equal(after.length, rows, 'every row once');
  t.equal(new Set(after.map((a) => a.accountId)).size, rows, 'no account twice');
  const verify = await cli(['verify'], env);
  t.equal(verify.code, 0, verify.stdout);
});

