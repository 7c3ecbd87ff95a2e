// POST /v1/heartbeats (SPEC §9), what it refuses: a body that breaks the schema writes nothing; only
// gateway and admin tokens; the shared rate limit; a store that is down; metrics and OpenAPI.
import t from 'tap';
import type { RecordedEvent } from '../../src/store/port.js';
import { testApi, type TestApi } from './helpers.js';

// Two batches of 1,000 items and seven app builds: on a crowded 2-core machine this file needs more
// than the suite's 120 s.
t.setTimeout(300_000);

function bulk(api: TestApi, heartbeats: unknown, headers: Record<string, string> = api.asRole('gateway')) {
  return api.inject({ method: 'POST', url: '/v1/heartbeats', headers, payload: { heartbeats } as object });
}

async function events(api: TestApi): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for await (const event of api.store.readAll()) all.push(event);
  return all;
}

t.test('a body that breaks the schema is 400 VALIDATION_FAILED and writes nothing', async (t) => {
  const api = await testApi(t);
  await api.command('alice', 'start');
  const item = { accountId: 'alice' };
  const cases: [string, unknown][] = [
    ['1,001 items', Array.from({ length: 1001 }, () => item)],
    ['no items', []],
    ['not an array', item],
    ['an unknown field in an item', [item, { accountId: 'alice', extra: 1 }]],
    ['an account id off the pattern', [item, { accountId: '-bad' }]],
    ['a session id that is not a UUID', [item, { accountId: 'alice', sessionId: 'abc' }]],
    ['an account id that is not a string', [item, { accountId: 42 }]],
    ['a session id that is not a string', [item, { accountId: 'alice', sessionId: null }]],
    ['an item that is not an object', [item, 'alice']],
  ];
  for (const [name, heartbeats] of cases) {
    const res = await bulk(api, heartbeats);
    t.equal(res.statusCode, 400, name);
    t.equal(res.json().code, 'VALIDATION_FAILED', name);
  }
  const extra = await api.inject({ method: 'POST', url: '/v1/heartbeats', headers: api.asRole('gateway'), payload: { heartbeats: [item], more: 1 } });
  t.equal(extra.json().code, 'VALIDATION_FAILED', 'an unknown top-level field');
  const none = await api.inject({ method: 'POST', url: '/v1/heartbeats', headers: api.asRole('gateway') });
  t.equal(none.json().code, 'VALIDATION_FAILED', 'no body at all');
  t.equal((await events(api)).length, 1, 'only the start');

  const thousand = await bulk(api, Array.from({ length: 1000 }, () => item));
  t.equal(thousand.statusCode, 200, '1,000 items are allowed');
  t.equal(thousand.json().results.length, 1000);
  t.equal((await events(api)).length, 1001);
});

t.test('only gateway and admin tokens: a user or auditor token is 403, none is 401', async (t) => {
  const api = await testApi(t);
  await api.command('alice', 'start');
  const items = [{ accountId: 'alice' }];
  t.equal((await bulk(api, items, api.as('alice'))).statusCode, 403, "a user token, even for its own account");
  t.equal((await bulk(api, items, api.asRole('auditor'))).statusCode, 403);
  const forbidden = await bulk(api, items, api.as('alice'));
  t.equal(forbidden.json().code, 'FORBIDDEN');
  const anonymous = await bulk(api, items, {});
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.json().code, 'UNAUTHORIZED');
  t.equal((await bulk(api, [{ accountId: 'x', extra: true }], api.as('alice'))).statusCode, 403, 'authorization before validation');
  t.equal((await events(api)).length, 1);

  const admin = await bulk(api, items, api.asRole('admin'));
  t.equal(admin.statusCode, 200);
  const last = (await events(api)).at(-1)!;
  t.same((last.metadata as { actor: unknown }).actor, { kind: 'gateway', id: 'admin:admin' });
  await bulk(api, items);
  t.same(((await events(api)).at(-1)!.metadata as { actor: unknown }).actor, { kind: 'gateway', id: 'gateway' });
});

t.test('the rate limit is per item and shared with the single route', async (t) => {
  const api = await testApi(t, { settings: { commandRateLimitPerMinute: 3 } });
  await api.command('busy', 'start');
  const { results } = (await bulk(api, [{ accountId: 'busy' }, { accountId: 'busy' }, { accountId: 'busy' }, { accountId: 'calm' }])).json();
  t.same(results.map((r: { status: number }) => r.status), [200, 200, 429, 409], 'the start spent one of three');
  t.equal((await api.command('busy', 'heartbeat')).statusCode, 429, 'the single route sees the same budget');
  api.clock.advance(20_000);
  t.equal((await bulk(api, [{ accountId: 'busy' }])).json().results[0].status, 200, 'refilled by the clock');
});

t.test('a store that is down answers each item 503 UNAVAILABLE with a retry hint', async (t) => {
  const api = await testApi(t);
  await api.command('alice', 'start');
  await api.store.close();
  const res = await bulk(api, [{ accountId: 'alice' }, { accountId: 'bob' }]);
  t.equal(res.statusCode, 200);
  t.same(res.json().results, [
    { accountId: 'alice', status: 503, code: 'UNAVAILABLE', retryAfter: 1 },
    { accountId: 'bob', status: 503, code: 'UNAVAILABLE', retryAfter: 1 },
  ]);
});

t.test('metrics count every item by outcome; the route is in the OpenAPI document', async (t) => {
  const api = await testApi(t, { settings: { commandRateLimitPerMinute: 2 } });
  await api.command('a', 'start');
  await bulk(api, [{ accountId: 'a' }, { accountId: 'a' }, { accountId: 'b' }]);
  const text = (await api.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(text, /mining_bulk_heartbeats_total\{outcome="ok"\} 1/);
  t.match(text, /mining_bulk_heartbeats_total\{outcome="RATE_LIMITED"\} 1/);
  t.match(text, /mining_bulk_heartbeats_total\{outcome="NOT_MINING"\} 1/);
  t.match(text, /mining_commands_total\{command="heartbeat",outcome="ok"\} 1/);
  t.match(text, /mining_rate_limited_total\{command="heartbeat"\} 1/);
  t.match(text, /http_request_duration_seconds_count\{method="POST",route="\/v1\/heartbeats",status_code="200"\} 1/);

  const doc = (await api.inject({ method: 'GET', url: '/openapi.json' })).json();
  const route = doc.paths['/v1/heartbeats'].post;
  t.equal(route.requestBody.content['application/json'].schema.properties.heartbeats.maxItems, 1000);
  t.ok(route.responses['200'].content['application/json'].schema.properties.results, 'results described');
});
