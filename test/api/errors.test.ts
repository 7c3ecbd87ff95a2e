// Every error answer: its status, code and shape, the order of the checks, and that nothing is written.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { uuidV7Generator } from '../../src/commands/clock.js';
import { createCommandHandler } from '../../src/commands/handler.js';
import { DEFAULT_MINING, testApi } from './helpers.js';

const KEYS = ['code', 'error', 'message', 'statusCode'];

t.test('errors of input shape: 415, 413, malformed JSON, non-object bodies', async (t) => {
  const api = await testApi(t, { settings: { bodyLimit: 1024 } });
  await api.command('alice', 'start');
  const post = (headers: Record<string, string>, payload: string) =>
    api.inject({ method: 'POST', url: '/v1/accounts/alice/mining/heartbeat', headers: { ...api.as('alice'), ...headers }, payload });
  const cases: [string, Record<string, string>, string, number, string][] = [
    ['text/plain', { 'content-type': 'text/plain' }, 'hello', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['form', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body without content-type', {}, '{}', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['garbage content-type', { 'content-type': '%%%' }, '{}', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['too large', { 'content-type': 'application/json' }, JSON.stringify({ sessionId: 'x'.repeat(2000) }), 413, 'PAYLOAD_TOO_LARGE'],
    ['malformed JSON', { 'content-type': 'application/json' }, '{"sessionId":', 400, 'VALIDATION_FAILED'],
    ['null', { 'content-type': 'application/json' }, 'null', 400, 'VALIDATION_FAILED'],
    ['an array', { 'content-type': 'application/json' }, '[]', 400, 'VALIDATION_FAILED'],
    ['a string', { 'content-type': 'application/json' }, '"x"', 400, 'VALIDATION_FAILED'],
    ['prototype poisoning', { 'content-type': 'application/json' }, '{"__proto__":{"x":1}}', 400, 'VALIDATION_FAILED'],
  ];
  for (const [name, headers, payload, status, code] of cases) {
    const res = await post(headers, payload);
    t.equal(res.statusCode, status, name);
    t.same(Object.keys(res.json()).sort(), KEYS, `${name}: error shape`);
    t.equal(res.json().code, code, name);
    t.equal(res.json().statusCode, status, name);
  }
  t.equal(await api.eventCount(), 1, 'nothing written by any of them');
});

t.test('account ids are validated before authorization: 400 INVALID_ACCOUNT_ID', async (t) => {
  const api = await testApi(t);
  for (const bad of ['-starts-with-dash', 'a'.repeat(129), 'sp ace', 'semi;colon', 'ünï']) {
    const res = await api.inject({
      method: 'POST', url: `/v1/accounts/${encodeURIComponent(bad)}/mining/start`, headers: api.asRole('admin'),
    });
    t.equal(res.statusCode, 400, bad);
    t.equal(res.json().code, 'INVALID_ACCOUNT_ID', bad);
  }
  const longest = 'a'.repeat(128);
  t.equal((await api.command(longest, 'start')).statusCode, 201, '128 characters is fine');
  t.equal((await api.command('a.b_c@d+e-f', 'start')).statusCode, 201);
});

t.test('checks run in order: authentication, account id, authorization, validation, domain', async (t) => {
  const api = await testApi(t);
  const url = (id: string) => `/v1/accounts/${id}/mining/heartbeat`;
  const bad = { 'content-type': 'text/plain' };
  const expect = async (name: string, headers: Record<string, string>, id: string, payload: string | undefined, code: string) => {
    const res = await api.inject({ method: 'POST', url: url(id), headers, ...(payload === undefined ? {} : { payload }) });
    t.equal(res.json().code, code, name);
  };
  await expect('no token, bad id, bad body', bad, '-x', 'x', 'UNAUTHORIZED');
  await expect('token, bad id, bad body', { ...api.as('bob'), ...bad }, '-x', 'x', 'INVALID_ACCOUNT_ID');
  await expect('other account, bad body', { ...api.as('bob'), ...bad }, 'alice', 'x', 'FORBIDDEN');
  await expect('own account, bad media type', { ...api.as('alice'), ...bad }, 'alice', 'x', 'UNSUPPORTED_MEDIA_TYPE');
  await expect('own account, bad field', { ...api.as('alice'), 'content-type': 'application/json' }, 'alice', '{"x":1}', 'VALIDATION_FAILED');
  await expect('own account, valid, not mining', api.as('alice'), 'alice', undefined, 'NOT_MINING');
});

t.test('unknown routes and methods are 404 NOT_FOUND in the same shape, without authentication', async (t) => {
  const api = await testApi(t);
  for (const [method, url] of [
    ['GET', '/nope'], ['POST', '/v1/accounts/alice/mining/pause'], ['GET', '/v1/accounts/alice/mining/start'],
    ['DELETE', '/v1/accounts/alice'], ['GET', '/v1'], ['GET', '/v1/accounts'],
  ] as const) {
    const res = await api.inject({ method, url });
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.same(Object.keys(res.json()).sort(), KEYS);
    t.equal(res.json().code, 'NOT_FOUND');
  }
  const badUrl = await api.inject({ method: 'GET', url: '/v1/accounts/%E0%A4%A/sessions' });
  t.equal(badUrl.statusCode, 400, 'a malformed percent-encoding');
  t.equal(badUrl.json().code, 'VALIDATION_FAILED');
});

t.test('per-account rate limit: 429 RATE_LIMITED with Retry-After, refilled by the clock', async (t) => {
  const api = await testApi(t, { settings: { commandRateLimitPerMinute: 3 } });
  t.equal((await api.command('alice', 'start')).statusCode, 201);
  t.equal((await api.command('alice', 'heartbeat')).statusCode, 200);
  t.equal((await api.command('alice', 'heartbeat')).statusCode, 200);
  const limited = await api.command('alice', 'heartbeat');
  t.equal(limited.statusCode, 429);
  t.equal(limited.json().code, 'RATE_LIMITED');
  t.equal(limited.headers['retry-after'], '20', 'one command per 20 s refills');
  t.equal((await api.command('bob', 'start')).statusCode, 201, 'another account has its own budget');
  const invalid = await api.command('alice', 'heartbeat', { x: 1 });
  t.equal(invalid.json().code, 'VALIDATION_FAILED', 'an invalid command is refused before it spends budget');
  api.clock.advance(20_000);
  t.equal((await api.command('alice', 'heartbeat')).statusCode, 200, 'refilled');
  t.equal((await api.command('alice', 'heartbeat')).statusCode, 429);
  t.equal(await api.eventCount(), 5, 'alice: start + 3 heartbeats; bob: start');
});

t.test('rate limit 0 is off', async (t) => {
  const api = await testApi(t, { settings: { commandRateLimitPerMinute: 0 } });
  await api.command('alice', 'start');
  for (let i = 0; i < 100; i++) t.equal((await api.command('alice', 'heartbeat')).statusCode, 200);
});

t.test('a stream that keeps changing under the command answers 503 UNAVAILABLE with Retry-After and writes nothing', async (t) => {
  const api = await testApi(t, { maxAttempts: 1 });
  await api.command('alice', 'start');
  // Another process writes to the stream: the API's cached state is now stale and its one attempt conflicts.
  const other = createCommandHandler({ store: api.store, clock: api.clock, ids: uuidV7Generator(api.clock), settings: () => DEFAULT_MINING });
  api.clock.advance(1000);
  await other.execute('alice', { type: 'heartbeat' }, { actor: { kind: 'gateway', id: 'other' }, correlationId: 'c' });
  const before = await api.eventCount();
  const res = await api.command('alice', 'heartbeat');
  t.equal(res.statusCode, 503);
  t.equal(res.json().code, 'UNAVAILABLE');
  t.equal(res.headers['retry-after'], '1');
  t.equal(await api.eventCount(), before);
  t.equal((await api.command('alice', 'heartbeat')).statusCode, 200, 'the next try reads the stream again');
});

t.test('every answer carries a request id; a sane x-request-id is echoed and recorded as correlationId', async (t) => {
  const api = await testApi(t);
  const res = await api.inject({
    method: 'POST', url: '/v1/accounts/alice/mining/start', headers: { ...api.as('alice'), 'x-request-id': 'req-123.abc' },
  });
  t.equal(res.headers['x-request-id'], 'req-123.abc');
  const insane = await api.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'a b\u0001' } });
  t.match(insane.headers['x-request-id'], /^[A-Za-z0-9_-]+-[0-9a-z]+$/);
  for await (const event of api.store.readAll()) t.equal((event.metadata as { correlationId: string }).correlationId, 'req-123.abc');
});

t.test('finished requests are logged as JSON lines with their request id; successes only at debug', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const api = await testApi(t, { logger: pino({ level: 'info' }, sink) });
  await api.command('alice', 'start');
  await api.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'trace-42' } });
  const completed = lines.filter((line) => line.msg === 'request completed');
  t.same(completed.map((line) => [line.reqId, line.statusCode, line.url]), [['trace-42', 404, '/nowhere']]);
});
