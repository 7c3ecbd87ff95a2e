// Events and their metadata are validated on write and on read: a clear error, never a silent misread.
import t from 'tap';
import {
  accountOf, EventValidationError, isValidAccountId, SCHEMA_VERSION, streamOf, validateEvent, validateMetadata,
} from '../../src/domain/events.js';
import { beat, iso, SESSION, started, stopped } from './fixtures.js';

const metadata = { schemaVersion: SCHEMA_VERSION, recordedAt: iso('10:00'), correlationId: 'req-1', actor: { kind: 'user', id: 'alice' } };

t.test('the three facts validate as written by the decider', async (t) => {
  for (const event of [started('10:00'), beat('10:00:30'), stopped('10:01', 'user'), stopped('10:01', 'timeout'), stopped('10:01', 'max_duration')]) {
    t.same(validateEvent(event.type, event.data), event, `${event.type} is valid`);
  }
});

t.test('an unknown event type is a clear error, also for names every object has', async (t) => {
  for (const type of ['MiningPaused', 'miningstarted', 'toString', 'constructor', '__proto__', '']) {
    t.throws(() => validateEvent(type, { sessionId: SESSION, at: iso('10:00') }, 'mining-alice@3'), {
      name: 'EventValidationError',
      message: `mining-alice@3: unknown event type "${type}"`,
    });
  }
});

t.test('malformed data is refused with the field that is wrong', async (t) => {
  const start = started('10:00').data;
  const cases: [string, unknown, RegExp][] = [
    ['MiningStarted', { ...start, sessionId: 'not-a-uuid' }, /MiningStarted data \/sessionId/],
    ['MiningStarted', { ...start, sessionId: SESSION.toUpperCase() }, /\/sessionId/],
    ['MiningStarted', { ...start, accountId: '.alice' }, /\/accountId/],
    ['MiningStarted', { ...start, rateUnitsPerHour: '0.25' }, /\/rateUnitsPerHour/],
    ['MiningStarted', { ...start, rateUnitsPerHour: 25_000_000 }, /\/rateUnitsPerHour/],
    ['MiningStarted', { ...start, rateUnitsPerHour: '-1' }, /\/rateUnitsPerHour/],
    ['MiningStarted', { ...start, heartbeatTimeoutMs: 0 }, /\/heartbeatTimeoutMs/],
    ['MiningStarted', { ...start, heartbeatTimeoutMs: 1.5 }, /\/heartbeatTimeoutMs/],
    ['MiningStarted', { ...start, maxSessionMs: -1 }, /\/maxSessionMs/],
    ['MiningStarted', { ...start, extra: true }, /MiningStarted data/],
    ['Heartbeat', { sessionId: SESSION }, /\/at/],
    ['Heartbeat', { sessionId: SESSION, at: '2026-03-01T10:00:00Z' }, /\/at/],
    ['Heartbeat', { sessionId: SESSION, at: 1772359200000 }, /\/at/],
    ['Heartbeat', null, /Heartbeat data/],
    ['Heartbeat', 'Heartbeat', /Heartbeat data/],
    ['MiningStopped', { sessionId: SESSION, at: iso('10:00'), reason: 'crash' }, /\/reason/],
    ['MiningStopped', { sessionId: SESSION, at: iso('10:00') }, /\/reason/],
  ];
  for (const [type, data, message] of cases) {
    t.throws(() => validateEvent(type, data), { name: 'EventValidationError', message }, `${type} ${JSON.stringify(data)}`);
  }
});

t.test('a time of the right shape that does not exist is refused', async (t) => {
  t.throws(() => validateEvent('Heartbeat', { sessionId: SESSION, at: '2026-02-30T10:00:00.000Z' }, 'write'), {
    message: 'write: Heartbeat has an impossible time "2026-02-30T10:00:00.000Z"',
  });
});

t.test('a rate beyond a signed 64-bit count of units is refused, however well formed', async (t) => {
  const start = started('10:00').data;
  t.ok(validateEvent('MiningStarted', { ...start, rateUnitsPerHour: '9223372036854775807' }));
  t.throws(() => validateEvent('MiningStarted', { ...start, rateUnitsPerHour: '9223372036854775808' }), {
    name: 'EventValidationError',
    message: /rateUnitsPerHour is larger than 9223372036854775807/,
  });
});

t.test('metadata: schemaVersion, recordedAt, correlationId and a known actor kind', async (t) => {
  t.same(validateMetadata(metadata), metadata);
  for (const kind of ['user', 'gateway', 'sweeper']) t.ok(validateMetadata({ ...metadata, actor: { kind, id: 'x' } }));
  t.ok(validateMetadata({ ...metadata, traceId: 'extra fields are kept, not refused' }));
  const bad: [unknown, RegExp][] = [
    [undefined, /metadata/],
    [null, /metadata/],
    [{ ...metadata, schemaVersion: 0 }, /\/schemaVersion/],
    [{ ...metadata, schemaVersion: '1' }, /\/schemaVersion/],
    [{ ...metadata, recordedAt: 'yesterday' }, /\/recordedAt/],
    [{ ...metadata, correlationId: '' }, /\/correlationId/],
    [{ ...metadata, actor: { kind: 'admin', id: 'root' } }, /\/actor\/kind/],
    [{ ...metadata, actor: { kind: 'user' } }, /\/actor\/id/],
    [{ schemaVersion: 1 }, /metadata/],
  ];
  for (const [value, message] of bad) {
    t.throws(() => validateMetadata(value, 'read'), { name: 'EventValidationError', message }, JSON.stringify(value) ?? 'undefined');
  }
});

t.test('a newer schema version is refused with a hint to upgrade, before any other check', async (t) => {
  t.throws(() => validateMetadata({ schemaVersion: SCHEMA_VERSION + 1 }, 'mining-alice@7 (position 42)'), {
    message: `mining-alice@7 (position 42): schema version ${SCHEMA_VERSION + 1} is newer than this build understands (${SCHEMA_VERSION}); upgrade mining-ledger`,
  });
  t.throws(() => validateMetadata({ ...metadata, schemaVersion: 99 }), EventValidationError);
});

t.test('account ids and stream names', async (t) => {
  for (const id of ['alice', 'a', 'A1', 'user@example.com', 'a.b_c-d+e', '0', 'x'.repeat(128)]) {
    t.ok(isValidAccountId(id), `"${id.slice(0, 20)}" is valid`);
    t.equal(streamOf(id), `mining-${id}`);
    t.equal(accountOf(streamOf(id)), id);
  }
  for (const id of ['', '.alice', '-a', '@a', 'a b', 'a/b', 'ä', 'x'.repeat(129), 'a\n', 42, null]) {
    t.notOk(isValidAccountId(id), `${JSON.stringify(id)} is not valid`);
  }
  t.equal(accountOf('other-alice'), undefined, 'a stream of another category is no account');
  t.equal(accountOf('mining-'), undefined);
  t.equal(accountOf('mining-.x'), undefined);
});
