// SPEC §15 "Start-up errors", "Read-only tools", "Files and logs" (modes) and the command line's
// store checks, each through the real command line as its own process.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bearer, cli, request, serve, terminate } from './helpers.js';

// Every case starts real processes (seconds each on a busy machine).
t.setTimeout(600_000);

const oneLine = (text: string) => text.trim().split('\n').filter((l) => l.startsWith('mining-ledger'));

t.test('a file that is not a store: exit 2 with SQLite\'s reason in one line, never [object Object]', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'events.db'), 'this is not an SQLite database, just some text that is long enough to have a header\n'.repeat(20));
  const run = cli(t, ['serve'], { DATA_DIR: dir, PORT: '0' });
  const { code, ms } = await run.exited;
  t.equal(code, 2);
  t.ok(ms < 30_000, `exited in ${ms} ms`);
  t.notMatch(run.stderr(), /object Object/);
  t.match(oneLine(run.stderr()).join('\n'), /cannot start: event store .*events\.db.*not a database/);
});

t.test('--read-model-path /dev/null: exit 2 naming the read model, not "cannot rollback"', async (t) => {
  const dir = t.testdir();
  const run = cli(t, ['serve', '--read-model-path', '/dev/null'], { DATA_DIR: dir, PORT: '0' });
  t.equal((await run.exited).code, 2);
  t.notMatch(run.stderr(), /cannot rollback/);
  t.match(run.stderr(), /read model \/dev\/null/);
});

t.test('DATA_DIR=/proc/nope: exit 2 naming DATA_DIR within seconds (it used to spin forever)', async (t) => {
  for (const command of [['serve'], ['token', '--sub', 'a']]) {
    const run = cli(t, command, { DATA_DIR: '/proc/nope/deeper', PORT: '0' });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
    const { code, signal } = await run.exited;
    clearTimeout(timer);
    t.same([code, signal], [2, null], `${command[0]}: ${run.stderr().trim()}`);
    t.match(run.stderr(), /DATA_DIR/);
  }
});

t.test('sqlite::memory: is refused with exit 2 and creates no file', async (t) => {
  const dir = t.testdir();
  const run = cli(t, ['verify'], { EVENT_STORE_URL: 'sqlite::memory:', DATA_DIR: dir });
  t.equal((await run.exited).code, 2);
  t.match(run.stderr(), /EVENT_STORE_URL.*a store must be a file/);
  t.same(readdirSync(dir), []);
});

t.test('verify and replay without a store: exit 2, no data directory and no empty store created', async (t) => {
  const dir = t.testdir();
  for (const command of [['verify'], ['replay', 'alice']]) {
    const run = cli(t, command, { DATA_DIR: join(dir, 'absent') });
    t.equal((await run.exited).code, 2, `${command[0]}: ${run.stderr().trim()}`);
    t.equal(existsSync(join(dir, 'absent')), false, 'no data directory');
  }
  mkdirSync(join(dir, 'empty'));
  const run = cli(t, ['verify'], { DATA_DIR: join(dir, 'empty') });
  t.equal((await run.exited).code, 2);
  t.match(run.stderr(), /event store .*events\.db does not exist/);
  t.equal(existsSync(join(dir, 'empty', 'events.db')), false, 'no empty store');
});

t.test('serve creates its data directory 0700 and the store, read model and secret 0600', async (t) => {
  const dir = join(t.testdir(), 'fresh', 'data');
  const server = await serve(t, { DATA_DIR: dir, JWT_SECRET: '' });
  const res = await request(`${server.base}/v1/accounts/alice/mining/start`, { method: 'POST', headers: bearer({ sub: 'alice' }) });
  t.equal(res.status, 401, 'the created secret is not the test secret');
  t.equal(statSync(dir).mode & 0o777, 0o700, 'data directory');
  t.equal(statSync(join(dir, '..')).mode & 0o777, 0o700, 'its created parent');
  for (const file of ['events.db', 'read.db', 'jwt-secret']) t.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
  for (const file of readdirSync(dir).filter((f) => f.startsWith('events.db-'))) t.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
  t.equal((await terminate(server)).code, 0);
});
