// /healthz, /readyz, /metrics, /openapi.json and /docs.
import t from 'tap';
import { testApi } from './helpers.js';

t.test('healthz answers while the process lives; readyz once the projector has caught up', async (t) => {
  const api = await testApi(t);
  const health = await api.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200);
  t.same(health.json(), { status: 'ok' });
  await api.projector.caughtUp;
  const start = (await api.command('alice', 'start')).json();
  await api.projector.readModel.waitForPosition(BigInt(start.position), 2000);
  const ready = await api.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready', storePosition: start.position, readModelPosition: start.position });
});

t.test('readyz is 503 UNAVAILABLE when the store does not answer', async (t) => {
  const api = await testApi(t);
  await api.projector.caughtUp;
  await api.projector.stop();
  await api.store.close();
  const res = await api.inject({ method: 'GET', url: '/readyz' });
  t.equal(res.statusCode, 503);
  t.equal(res.json().code, 'UNAVAILABLE');
  t.equal(res.headers['retry-after'], '1');
});

t.test('metrics: request latencies by route, commands, heartbeats, rate limiting, projector figures', async (t) => {
  const api = await testApi(t, { settings: { commandRateLimitPerMinute: 2 } });
  await api.command('alice', 'start');
  await api.command('alice', 'heartbeat');
  await api.command('alice', 'heartbeat');
  await api.command('bob', 'heartbeat');
  const res = await api.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain/);
  const text = res.body;
  t.match(text, /http_request_duration_seconds_count\{method="POST",route="\/v1\/accounts\/:accountId\/mining\/start",status_code="201"\} 1/);
  t.match(text, /http_request_duration_seconds_count\{method="POST",route="\/v1\/accounts\/:accountId\/mining\/heartbeat",status_code="429"\} 1/);
  t.match(text, /mining_commands_total\{command="start",outcome="ok"\} 1/);
  t.match(text, /mining_commands_total\{command="heartbeat",outcome="ok"\} 1/);
  t.match(text, /mining_commands_total\{command="heartbeat",outcome="NOT_MINING"\} 1/);
  t.match(text, /mining_heartbeats_total\{recorded="true"\} 1/);
  t.match(text, /mining_rate_limited_total\{command="heartbeat"\} 1/);
  t.match(text, /mining_projector_lag_events \d+/);
  const again = (await api.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(again, /mining_commands_total\{command="start",outcome="ok"\} 1\n/, 'a scrape does not count twice');
});

t.test('the OpenAPI document comes from the route schemas; /docs serves the UI', async (t) => {
  const api = await testApi(t);
  const res = await api.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(res.statusCode, 200);
  const doc = res.json();
  t.equal(doc.openapi, '3.0.3');
  t.same(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const path of [
    '/v1/accounts/{accountId}/mining/start', '/v1/accounts/{accountId}/mining/heartbeat', '/v1/accounts/{accountId}/mining/stop',
    '/v1/accounts/{accountId}', '/v1/accounts/{accountId}/sessions', '/v1/accounts/{accountId}/audit', '/healthz', '/readyz',
  ]) t.ok(doc.paths[path], path);
  const start = doc.paths['/v1/accounts/{accountId}/mining/start'].post;
  t.same(Object.keys(start.responses).sort(), ['200', '201', '4XX', '5XX']);
  const session = start.responses['201'].content['application/json'].schema.properties.session;
  t.same(Object.keys(session.properties).sort(), [
    'creditedMs', 'deadline', 'earned', 'earnedUnits', 'heartbeatIntervalMs', 'heartbeatTimeoutMs', 'lastHeartbeatAt',
    'maxSessionMs', 'ratePerHour', 'reason', 'sessionId', 'startedAt', 'stoppedAt',
  ]);
  const ui = await api.inject({ method: 'GET', url: '/docs/' });
  t.equal(ui.statusCode, 200);
  t.match(ui.headers['content-type'], /text\/html/);
});
