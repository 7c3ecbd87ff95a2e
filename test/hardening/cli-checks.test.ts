// SPEC §15 "Command line" and the EventStoreDB deadline of replay/verify, through the command line.
import t from 'tap';
import { cli } from './helpers.js';
import { runInProcess } from '../support/cli.js';

t.setTimeout(300_000);

const run = (argv: string[], env: Record<string, string>) => runInProcess(argv, env);

t.test('a flag that takes one value, given twice, is exit 2 (token --sub a --sub b signed b)', async (t) => {
  const env = { DATA_DIR: t.testdir(), JWT_SECRET: 'x'.repeat(40) };
  const twice = await run(['token', '--sub', 'a', '--sub', 'b'], env);
  t.equal(twice.code, 2);
  t.match(twice.err, /--sub given more than once/);
  t.equal(twice.out, '', 'nothing signed');
  t.equal((await run(['token', '--port', '1', '--port=2', '--sub', 'a'], env)).code, 2, 'a configuration flag too');
  t.equal((await run(['serve', '--no-sweeper', '--no-projector', '--help'], env)).code, 0, '--no-x negatives still parse');
});

t.test('esdb://x:99999 is refused as configuration', async (t) => {
  const res = await run(['verify'], { DATA_DIR: t.testdir(), EVENT_STORE_URL: 'esdb://x:99999?tls=false' });
  t.equal(res.code, 2);
  t.match(res.err, /EVENT_STORE_URL: port 99999/);
});

t.test('verify and replay against an unreachable EventStoreDB: exit 2 within 30 s, with the reason', async (t) => {
  for (const [url, command] of [['esdb://127.0.0.1:1?tls=false', ['verify']], ['esdb+discover://127.0.0.1:1?tls=false', ['replay', 'alice']]] as const) {
    const child = cli(t, [...command], { DATA_DIR: t.testdir(), EVENT_STORE_URL: url });
    const timer = setTimeout(() => child.child.kill('SIGKILL'), 45_000);
    const { code, signal } = await child.exited;
    clearTimeout(timer);
    t.same([code, signal], [2, null], `${command[0]} ${url}: ${child.stderr().trim()}`);
    t.match(child.stderr(), /event store/);
  }
});
