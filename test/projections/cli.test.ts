// replay, verify and rebuild through the command line: output, exit codes, and a read model
// corrupted on purpose that verify must catch.
import { existsSync } from 'node:fs';
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { runCli } from '../../src/cli/main.js';
import { auditAccount } from '../../src/projections/ledger/audit.js';
import { startProjector } from '../../src/projections/projector/projector.js';
import { exited, spawnTs } from './fixtures/spawn.js';
import { capture, dumpReadModel, mine, world, type World } from './helpers.js';

async function cli(w: World, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = capture();
  const stderr = capture();
  const env = { EVENT_STORE_URL: w.eventStoreUrl, READ_MODEL_PATH: w.readModelPath, LOG_LEVEL: 'silent' };
  const code = await runCli(argv, { env, stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

let template: Promise<string> | undefined;

/** alice: the incident; bob: a user stop; carol: still mining. Written once, copied for each test. */
async function history(test: Test): Promise<World> {
  template ??= (async () => {
    const w = await world(t);
    await mine(w, 'alice', 60, 'offline');
    await mine(w, 'bob', 3, 'stop');
    await mine(w, 'carol', 2, 'open');
    await w.store.close();
    return w.store.path;
  })();
  return world(test, { copyOf: await template });
}

function tamper(w: World, sql: string): void {
  const db = new Database(w.readModelPath);
  db.exec(sql);
  db.close();
}

t.test('replay --json prints the ledger auditAccount builds, and exits 0 when it matches', async (t) => {
  const w = await history(t);
  const result = await cli(w, ['replay', 'alice', '--json']);
  t.equal(result.code, 0, result.stderr);
  const printed = JSON.parse(result.stdout);
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  t.same(printed, await auditAccount({ store: w.store, readModel: projector.readModel, accountId: 'alice' }));
  t.equal(printed.replayedBalanceUnits, '25000000');
  t.equal(printed.matches, true);
});

t.test('replay prints a table a person can read: each interval, its verdict, and the totals', async (t) => {
  const w = await history(t);
  const result = await cli(w, ['replay', 'alice']);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /Session 1 {2}[0-9a-f-]{36}\n {2}started 2026-03-01T08:00:00\.000Z {2}rate 0\.25000000\/h {2}timeout 5m {2}max unlimited/);
  t.match(result.stdout, /2026-03-01T08:59:30\.000Z {2}2026-03-01T09:00:00\.000Z +30s +30s {2}heartbeat within timeout 5m\n/);
  t.match(result.stdout, /2026-03-01T09:00:00\.000Z {2}2026-03-01T09:05:00\.000Z +5m +- {2}no heartbeat within timeout 5m: offline until the deadline, not credited\n/);
  t.match(result.stdout, /stopped 2026-03-01T09:05:00\.000Z \(timeout\); 120 heartbeats; credited 1h; earned 0\.25000000 \(25000000 units\)/);
  t.match(result.stdout, /replayed balance {3}0\.25000000 \(25000000 units\)\n {2}projected balance {2}0\.25000000 \(25000000 units\)\n {2}replay and projection match\n/);
});

t.test('replay of an unknown account shows no sessions and balance 0', async (t) => {
  const w = await history(t);
  const result = await cli(w, ['replay', 'nobody', '--json']);
  t.equal(result.code, 0);
  t.match(JSON.parse(result.stdout), { sessions: [], replayedBalanceUnits: '0', projectedBalanceUnits: '0', streamRevision: null, matches: true });
});

t.test('replay with an invalid account id is a usage error that writes nothing', async (t) => {
  const w = await world(t);
  for (const argv of [['replay', 'bad id!'], ['replay'], ['replay', 'a', 'b'], ['replay', '-x', '--json']]) {
    const result = await cli(w, argv);
    t.equal(result.code, 2, argv.join(' '));
    t.match(result.stderr, /mining-ledger replay: .+\nUsage: mining-ledger replay <accountId> \[--json\]/);
    t.equal(result.stdout, '');
  }
  t.notOk(existsSync(w.readModelPath), 'no read model was created');
});

t.test('replay exits 1 and names the difference when the projection was tampered with', async (t) => {
  const w = await history(t);
  t.equal((await cli(w, ['verify'])).code, 0);
  tamper(w, "UPDATE accounts SET balance_units = 1 WHERE account_id = 'bob'");
  const result = await cli(w, ['replay', 'bob']);
  t.equal(result.code, 1);
  t.match(result.stdout, /MISMATCH balanceUnits: replayed \d+, projected 1\n/);
});

t.test('verify catches up a lagging projection, then reports accounts, events and no mismatch', async (t) => {
  const w = await history(t);
  t.equal((await cli(w, ['verify'])).code, 0);
  await mine(w, 'dave', 1, 'stop');
  const result = await cli(w, ['verify']);
  t.equal(result.code, 0, result.stdout);
  t.match(result.stdout, /accounts: 4\nevents: 139\nmismatches: 0\n$/);
});

t.test('verify catches every kind of corruption of the read model and exits 1', async (t) => {
  const w = await history(t);
  t.equal((await cli(w, ['verify'])).code, 0);
  tamper(w, `UPDATE accounts SET balance_units = balance_units + 1 WHERE account_id = 'alice';
    UPDATE accounts SET active_seq = NULL, mining = 0 WHERE account_id = 'carol';
    DELETE FROM accounts WHERE account_id = 'bob';
    INSERT INTO accounts VALUES ('mallory', 5, 0, 0, NULL, 0, NULL, 0, 1, 1);`);
  const result = await cli(w, ['verify', '--max-accounts-per-pass', '2']);
  t.equal(result.code, 1);
  t.match(result.stdout, /MISMATCH alice: balanceUnits: replayed 25000000, projected 25000001/);
  t.match(result.stdout, /MISMATCH bob: balanceUnits: replayed \d+, projected 0; creditedMs: replayed 190000, projected 0; streamRevision: replayed 7, projected none/);
  t.match(result.stdout, /MISMATCH carol: activeSession: replayed [0-9a-f-]{36}, projected none/);
  t.match(result.stdout, /MISMATCH mallory: balanceUnits: replayed 0, projected 5/);
  t.match(result.stdout, /in 2 passes\naccounts: 4\nevents: 135\nmismatches: 4\n$/);
});

t.test('verify asked to stop (SIGINT) says so and does not pass', async (t) => {
  const w = await history(t);
  const stdout = capture();
  const stderr = capture();
  const env = { EVENT_STORE_URL: w.eventStoreUrl, READ_MODEL_PATH: w.readModelPath, LOG_LEVEL: 'silent' };
  const code = await runCli(['verify'], { env, stdout: stdout.stream, stderr: stderr.stream, stopSignal: Promise.resolve('SIGINT') });
  t.equal(code, 1);
  t.match(stderr.text(), /mining-ledger verify: verify interrupted at position \d+; nothing was checked to the end\n/);
  t.notMatch(stdout.text(), /mismatches:/);
});

t.test('verify with a bad flag is a usage error', async (t) => {
  const w = await world(t);
  const result = await cli(w, ['verify', '--max-accounts-per-pass', 'many']);
  t.equal(result.code, 2);
  t.match(result.stderr, /--max-accounts-per-pass must be an integer/);
});

t.test('rebuild prints plain progress lines off a terminal and produces what the live projector produced', async (t) => {
  const w = await history(t);
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath, maxPendingEvents: 7 });
  await projector.caughtUp;
  await projector.stop();
  const live = dumpReadModel(w.readModelPath);
  const result = await cli(w, ['rebuild']);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stderr, /^rebuild build: 135\/135 events \(100\.0%\), \d+ events\/s, ETA 0s\n/m);
  t.match(result.stdout, /^rebuilt 135 events up to position 135 in [0-9.]+ s \(\d+ events\/s\): .*read\.db\n$/);
  t.same(dumpReadModel(w.readModelPath), live);
  t.equal((await cli(w, ['verify'])).code, 0);
});

t.test('the real process: verify exits 1 on a corrupted read model, 0 after a rebuild', async (t) => {
  const w = await history(t);
  const env = { EVENT_STORE_URL: w.eventStoreUrl, READ_MODEL_PATH: w.readModelPath };
  t.equal((await exited(spawnTs('./cli.ts', ['verify'], env))).code, 0);
  tamper(w, "UPDATE sessions SET credited_ms = 0; UPDATE accounts SET credited_ms = 0 WHERE account_id = 'carol'");
  const broken = await exited(spawnTs('./cli.ts', ['verify'], env));
  t.equal(broken.code, 1, broken.stderr);
  t.match(broken.stdout, /MISMATCH carol: creditedMs: replayed 120000, projected 0/);
  t.equal((await exited(spawnTs('./cli.ts', ['rebuild'], env))).code, 0);
  const fixed = await exited(spawnTs('./cli.ts', ['verify'], env));
  t.equal(fixed.code, 0, fixed.stdout);
  t.match(fixed.stdout, /mismatches: 0\n$/);
});
