// `doctor` through the command line: the incident (serve --no-sweeper, sessions left past their
// deadline) and the metrics that show it; the read-only contract and the other checks are in doctor-readonly.test.ts.
import t from 'tap';
import { cli, check, doctor, freePort, serve, until, user, writer } from './helpers.js';

const HOUR = 3_600_000;

async function metric(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function caughtUp(base: string): Promise<boolean> {
  const ready = await fetch(`${base}/readyz`);
  if (ready.status !== 200) return false;
  const body = (await ready.json()) as { storePosition: string; readModelPosition: string };
  return body.storePosition === body.readModelPosition;
}

t.test('the incident: serve --no-sweeper with sessions past their deadline fails naming the sweeper and the count; after a sweeper runs, ok', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir, PORT: String(await freePort()), LOG_LEVEL: 'silent', SWEEP_INTERVAL_MS: '50', SWEEP_GRACE_MS: '0' };
  const server = await serve(['--no-sweeper'], env);
  t.teardown(() => server.stop());
  // Three phones died an hour ago; one miner is still online.
  const w = await writer(t, dir, Date.now() - HOUR);
  for (const account of ['dead-1', 'dead-2', 'dead-3']) await w.handler.execute(account, { type: 'start' }, user());
  w.clock.set(Date.now());
  await w.handler.execute('online', { type: 'start' }, user());
  await until(() => caughtUp(server.base), 'the read model');

  const before = await doctor(env);
  t.equal(before.code, 1, 'exit 1: a check failed');
  t.equal(before.report.ok, false);
  const sweeper = check(before.report, 'sweeper');
  t.equal(sweeper.status, 'fail');
  t.match(sweeper.reason, /^3 sessions are past deadline \+ SWEEP_GRACE_MS \+ 10 × SWEEP_INTERVAL_MS .*no sweeper is running/);
  t.match(sweeper.action, /mining-ledger sweeper/);
  t.same(before.report.checks.filter((c) => c.status === 'fail').map((c) => c.name), ['sweeper'], 'only the sweeper fails');
  t.equal(await metric(server.base, 'mining_sessions_overdue'), 3, 'serve without a sweeper exports the overdue count');

  const text = await cli(['doctor'], env);
  t.equal(text.code, 1);
  t.match(text.stdout, /^fail {2}sweeper +3 sessions are past/m);
  t.match(text.stdout, /→ start `mining-ledger sweeper`/);

  // A sweeper process comes up; it stops the three at their deadlines.
  let stop!: () => void;
  const stopSignal = new Promise<string>((resolve) => (stop = () => resolve('SIGTERM')));
  const swept = cli(['sweeper'], env, stopSignal);
  await until(async () => {
    const revisions = await Promise.all(['dead-1', 'dead-2', 'dead-3'].map((a) => w.store.streamRevision(`mining-${a}`)));
    return revisions.every((r) => r === 1n);
  }, 'the sweeper to stop the sessions');
  stop();
  t.equal((await swept).code, 0);
  await until(() => caughtUp(server.base), 'the read model');

  const after = await doctor(env);
  t.equal(after.code, 0, JSON.stringify(after.report.checks.filter((c) => c.status !== 'ok')));
  t.equal(after.report.ok, true);
  t.equal(check(after.report, 'sweeper').status, 'ok');
  t.match(check(after.report, 'sweeper').reason, /\(1 active\)/);
  await until(async () => (await metric(server.base, 'mining_sessions_overdue')) === 0, 'the gauge to fall to 0 (cached up to 5 s)');
});
