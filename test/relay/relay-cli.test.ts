// `mining-ledger relay` through the real command line, where no broker is needed: bad usage exits 2.
import t from 'tap';
import { runInProcess } from '../support/cli.js';

const relay = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(['relay', ...args], env);

t.test('relay without KAFKA_BROKERS exits 2 naming the variable', async (t) => {
  const dir = t.testdir();
  const result = await relay([], { DATA_DIR: dir, EVENT_STORE_URL: `sqlite:${dir}/events.db` });
  t.equal(result.code, 2);
  t.match(result.err, /KAFKA_BROKERS is required/);
});

t.test('relay flags are checked: --metrics-port and --batch-size take numbers in range', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir, EVENT_STORE_URL: `sqlite:${dir}/events.db`, KAFKA_BROKERS: '127.0.0.1:1' };
  for (const args of [['--metrics-port', 'x'], ['--metrics-port', '70000'], ['--batch-size', '0']]) {
    const result = await relay(args, env);
    t.equal(result.code, 2, args.join(' '));
    t.match(result.err, new RegExp(args[0]!));
  }
  const help = await relay(['--help'], env);
  t.equal(help.code, 0);
  t.match(help.out, /--metrics-port <port>/);
  t.match(help.out, /mining_relay_/);
});
