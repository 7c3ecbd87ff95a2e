// `doctor` through the command line: its read-only contract (SPEC §15) and each check that can
// fail (the incident itself is in doctor.test.ts; split so each file stays within tap's timeout).
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cli, check, doctor, user, writer } from './helpers.js';

const HOUR = 3_600_000;

t.test('doctor is read-only: no data directory or no store → exit 2, nothing created', async (t) => {
  const root = t.testdir();
  const missing = join(root, 'nowhere');
  const noDir = await cli(['doctor'], { DATA_DIR: missing, LOG_LEVEL: 'silent' });
  t.equal(noDir.code, 2);
  t.match(noDir.stderr, /no data directory .*nowhere/);
  t.notOk(existsSync(missing), 'no data directory was created');

  const empty = join(root, 'empty');
  mkdirSync(empty);
  const noStore = await cli(['doctor', '--json'], { DATA_DIR: empty, LOG_LEVEL: 'silent' });
  t.equal(noStore.code, 2);
  t.match(noStore.stderr, /no event store at .*events\.db/);
  t.same(readdirSync(empty), [], 'no store, read model or secret was created');

  writeFileSync(join(empty, 'events.db'), 'not a database at all, just text that is long enough to be read as a header....');
  const notStore = await cli(['doctor'], { DATA_DIR: empty, LOG_LEVEL: 'silent' });
  t.equal(notStore.code, 2);
  t.match(notStore.stderr, /is not an event store/);

  t.equal((await cli(['doctor', '--bogus'], { DATA_DIR: empty })).code, 2, 'unknown flag');
  const badConfig = await cli(['doctor', '--json'], { DATA_DIR: empty, SWEEP_INTERVAL_MS: 'soon' });
  t.equal(badConfig.code, 2, 'bad configuration');
  t.match(JSON.parse(badConfig.stdout), { ok: false, checks: [{ name: 'configuration', status: 'fail', reason: /SWEEP_INTERVAL_MS/ }] });
});

t.test('doctor fails a clock behind the store, a loose secret file, and a read model past the store', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir, LOG_LEVEL: 'silent' };
  // Events recorded a minute in the future: this machine's clock was set back.
  const w = await writer(t, dir, Date.now() + 60_000);
  await w.handler.execute('alice', { type: 'start' }, user());
  writeFileSync(join(dir, 'jwt-secret'), `${'s'.repeat(64)}\n`, { mode: 0o644 });
  chmodSync(join(dir, 'jwt-secret'), 0o644);
  const first = await doctor(env);
  t.equal(first.code, 1);
  t.match(check(first.report, 'clock'), { status: 'fail', reason: /clock is \d+ s behind the store's last event/, action: /NTP/ });
  t.match(check(first.report, 'secret'), { status: 'fail', action: /chmod 600/ });
  t.match(check(first.report, 'read model'), { status: 'warn', reason: /no read model/ });
  t.match(check(first.report, 'sweeper'), { status: 'warn', reason: /cannot check/ });
  t.match(check(first.report, 'store'), { status: 'ok', reason: /sqlite store answers: last position 1/ });
  t.match(check(first.report, 'disk'), { status: /ok|warn/, reason: /GiB free/ });


  const only = await cli(['doctor', '--json', '--check', 'store,read-model'], env);
  t.same(JSON.parse(only.stdout).checks.map((c: { name: string }) => c.name), ['store', 'read model'], '--check runs only the named checks');
  t.equal(only.code, 0, 'a warning is not a failure');
  const bogus = await cli(['doctor', '--check', 'store,bogus'], env);
  t.equal(bogus.code, 2);
  t.match(bogus.stderr, /--check takes a comma-separated list of configuration, store, data-directory, read-model/);

  // Another deployment: a read model built, then events that no projector applies.
  const other = join(dir, 'other');
  mkdirSync(other);
  const w2 = await writer(t, other, Date.now() - HOUR);
  await w2.handler.execute('carol', { type: 'start' }, user());
  await w2.handler.execute('dave', { type: 'start' }, user());
  const rebuild = await cli(['rebuild'], { DATA_DIR: other, LOG_LEVEL: 'silent' });
  t.equal(rebuild.code, 0, rebuild.stderr);
  w2.clock.set(Date.now() - 120_000);
  await w2.handler.execute('carol', { type: 'heartbeat' }, user());
  const stalled = await doctor({ DATA_DIR: other, LOG_LEVEL: 'silent' });
  t.match(check(stalled.report, 'read model'), { status: 'fail', reason: /^1 events behind the store, the oldest recorded 1\d\d s ago: no projector is running/, action: /project/ });

  // That read model (checkpoint 2) beside the first store (1 event): a restored backup's situation.
  const past = await doctor({ ...env, READ_MODEL_PATH: join(other, 'read.db') });
  t.match(check(past.report, 'read model'), { status: 'fail', reason: /checkpoint 2 is past the store's last position 1/, action: /rebuild/ });
});
