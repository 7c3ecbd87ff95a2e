// Flag parsing (node:util parseArgs, strict) through the command line and on the parser itself.
import t from 'tap';
import { parseArgs, UsageError, type FlagSpec } from '../../src/cli/args.js';
import { runInProcess } from '../support/cli.js';

const run = (argv: string[], env: Record<string, string>) => runInProcess(argv, env);

const SPECS: Record<string, FlagSpec> = {
  amount: { type: 'string', description: 'a signed amount' },
  note: { type: 'string', description: 'free text' },
  json: { type: 'boolean', description: 'as JSON' },
  sweeper: { type: 'boolean', description: 'run the sweeper' },
};

function usage(argv: string[], positionals = { min: 0, max: 1 }): string {
  try {
    parseArgs(argv, SPECS, positionals);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  return 'accepted';
}

t.test('bad flags are exit 2 with a message naming the flag, and the token command signs nothing', async (t) => {
  const env = { DATA_DIR: t.testdir(), JWT_SECRET: 'x'.repeat(40) };
  const cases: [string[], RegExp][] = [
    [['token', '--sub', 'a', '--bogus'], /token: unknown flag --bogus\nUsage: mining-ledger token /],
    [['token', '--sub', 'a', '--no-role'], /unknown flag --no-role/],
    [['token', '--sub', 'a', '-x'], /unknown flag -x/],
    [['token', '--sub'], /--sub needs a value/],
    [['token', '--sub', '--role', 'admin'], /--sub needs a value/],
    [['token', '--sub', 'a', '--ttl', '-5'], /--ttl must be between 1 and/],
    [['token', '--sub', 'a', '--port='], /--port needs a value/],
    [['token', '--role', 'admin', '--role', 'gateway'], /--role given more than once/],
    [['token', '--sub', 'a', 'extra'], /unexpected argument "extra"/],
    [['token', '--sub', 'a', '--no-help'], /unknown flag --no-help/],
  ];
  for (const [argv, message] of cases) {
    const res = await run(argv, env);
    t.equal(res.code, 2, argv.join(' '));
    t.match(res.err, message, argv.join(' '));
    t.equal(res.out, '', `${argv.join(' ')}: nothing signed`);
  }
  const good = await run(['token', '--sub=alice', '--ttl', '60'], env);
  t.equal(good.code, 0, good.err);
  t.match(good.out, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  t.equal((await run(['replay', 'alice', '--json=yes'], env)).err.split('\n')[0], 'mining-ledger replay: --json takes no value');
  t.equal((await run(['replay'], env)).err.split('\n')[0], 'mining-ledger replay: missing argument');
  const help = await run(['token', '-h'], env);
  t.equal(help.code, 0);
  t.match(help.out, /^Usage: mining-ledger token /);
});

t.test('the parser: values, negatives, configuration flags, a value that starts with one dash, and --', async (t) => {
  t.same(parseArgs(['alice', '--amount', '-7.64', '--note', '', '--no-sweeper', '--json'], SPECS, { min: 1, max: 1 }), {
    positionals: ['alice'], flags: { amount: '-7.64', note: '', sweeper: false, json: true }, config: {}, help: false,
  });
  t.same(parseArgs(['--port=0', '--event-store-url', 'sqlite:./x.db', '--sweeper', '--no-sweeper'], SPECS).config, {
    PORT: '0', EVENT_STORE_URL: 'sqlite:./x.db',
  });
  t.same(parseArgs(['--sweeper', '--no-sweeper'], SPECS).flags, { sweeper: false }, 'the last of a boolean and its negative wins');
  t.same(parseArgs(['--', '--amount'], SPECS, { min: 0, max: 1 }).positionals, ['--amount'], 'after -- everything is an argument');
  t.equal(usage(['--amount', '--']), '--amount needs a value', '-- is not a value');
  const help = parseArgs(['a', 'b', 'c', '--help'], SPECS, { min: 0, max: 1 });
  t.equal(help.help, true, 'help skips the argument count');
  t.equal(usage(['--amount', '--note', 'x']), '--amount needs a value', 'a value never starts with two dashes');
  t.equal(usage(['--amount=1', '--amount', '2']), '--amount given more than once');
  t.equal(usage(['--port', '1', '--port=2']), '--port given more than once', 'a configuration flag too');
  t.equal(usage(['--event-store-url', '']), '--event-store-url needs a value', 'an empty configuration value is not the default');
  t.equal(usage(['--json', '--json']), 'accepted', 'a boolean flag twice is harmless');
  t.equal(usage(['--sweeper=no']), '--sweeper takes no value');
  t.equal(usage(['--no-amount']), 'unknown flag --no-amount', 'no negative of a flag that takes a value');
  t.equal(usage(['--no-bogus']), 'unknown flag --no-bogus');
  t.equal(usage([], { min: 1, max: 1 }), 'missing argument');
  t.equal(usage(['a', 'b']), 'unexpected argument "b"');
});
