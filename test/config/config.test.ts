import t from 'tap';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config.js';

t.test('defaults put data under DATA_DIR and follow SPEC §6', async (t) => {
  const dir = t.testdir();
  const config = loadConfig({ DATA_DIR: dir });
  t.equal(config.eventStoreUrl, `sqlite:${join(dir, 'events.db')}`);
  t.equal(config.readModelPath, join(dir, 'read.db'));
  t.equal(config.host, '127.0.0.1');
  t.equal(config.port, 3000);
  t.equal(config.rateUnitsPerHour, 25_000_000n);
  t.equal(config.heartbeatIntervalMs, 30_000);
  t.equal(config.heartbeatTimeoutMs, 300_000);
  t.equal(config.maxSessionMs, 0);
  t.equal(config.minHeartbeatIntervalMs, 0);
  t.equal(config.sweepIntervalMs, 1000);
  t.equal(config.sweepGraceMs, 2000);
  t.equal(config.commandRateLimitPerMinute, 60);
  t.same(config.kafkaBrokers, []);
  t.equal(config.kafkaTopic, 'mining.events');
  t.equal(config.logLevel, 'info');
  t.equal(config.jwtSecret, undefined);
});

t.test('valid values are taken as given', async (t) => {
  const dir = t.testdir();
  const config = loadConfig({
    DATA_DIR: dir, EVENT_STORE_URL: 'esdb://localhost:2113?tls=false', PORT: '0', MINING_RATE_PER_HOUR: '1.5',
    MAX_SESSION_MS: '3600000', KAFKA_BROKERS: 'a:9092, b:9093', JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent',
  });
  t.equal(config.eventStoreUrl, 'esdb://localhost:2113?tls=false');
  t.equal(config.port, 0);
  t.equal(config.rateUnitsPerHour, 150_000_000n);
  t.equal(config.maxSessionMs, 3_600_000);
  t.same(config.kafkaBrokers, ['a:9092', 'b:9093']);
  t.equal(config.jwtSecret, 'x'.repeat(32));
});

t.test('every invalid value is refused with a message naming its variable', async (t) => {
  const dir = t.testdir();
  const cases: [string, string][] = [
    ['PORT', '70000'], ['PORT', 'abc'], ['PORT', '3.5'],
    ['EVENT_STORE_URL', 'mysql://x'], ['EVENT_STORE_URL', 'sqlite:'],
    ['MINING_RATE_PER_HOUR', '-1'], ['MINING_RATE_PER_HOUR', '0.123456789'], ['MINING_RATE_PER_HOUR', 'lots'],
    ['HEARTBEAT_TIMEOUT_MS', '0'], ['HEARTBEAT_TIMEOUT_MS', '1e3'], ['MAX_SESSION_MS', '-1'],
    ['HEARTBEAT_INTERVAL_MS', '300000'], ['MIN_HEARTBEAT_INTERVAL_MS', '400000'],
    ['SWEEP_INTERVAL_MS', '5'], ['SWEEP_GRACE_MS', '-2'], ['COMMAND_RATE_LIMIT_PER_MINUTE', 'many'],
    ['JWT_SECRET', 'short'], ['LOG_LEVEL', 'loud'], ['KAFKA_BROKERS', 'no-port'], ['KAFKA_TOPIC', 'bad topic'],
    ['HOST', 'bad host!'],
  ];
  for (const [name, value] of cases) {
    t.throws(() => loadConfig({ DATA_DIR: dir, [name]: value }), { name: 'ConfigError', message: new RegExp(name) }, `${name}=${value}`);
  }
});

t.test('a path whose directory cannot be created is refused', async (t) => {
  const file = join(t.testdir({ blocker: 'a file, not a directory' }), 'blocker');
  t.throws(() => loadConfig({ READ_MODEL_PATH: join(file, 'read.db') }), ConfigError);
  t.throws(() => loadConfig({ EVENT_STORE_URL: `sqlite:${join(file, 'events.db')}` }), /EVENT_STORE_URL/);
});

t.test('a DATA_DIR that cannot be a directory is reported under its own name', async (t) => {
  const file = join(t.testdir({ blocker: 'a file' }), 'blocker');
  t.throws(() => loadConfig({ DATA_DIR: file }), { name: 'ConfigError', message: /^DATA_DIR/ });
});
