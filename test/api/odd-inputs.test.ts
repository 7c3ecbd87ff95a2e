// Odd inputs that must be a 4xx and write nothing: an over-long admin subject, unknown query parameters on commands.
import t from 'tap';
import { testApi } from './helpers.js';

t.test('an admin token whose sub is longer than an account id is refused (401), never a 500', async (t) => {
  const api = await testApi(t);
  const token = api.token({ role: 'admin', sub: 'x'.repeat(200) });
  const res = await api.inject({ method: 'POST', url: '/v1/accounts/carol/mining/start', headers: { authorization: `Bearer ${token}` } });
  t.equal(res.statusCode, 401);
  t.equal(res.json().code, 'UNAUTHORIZED');
  const longest = api.token({ role: 'admin', sub: 'a'.repeat(128) });
  const ok = await api.inject({ method: 'POST', url: '/v1/accounts/carol/mining/start', headers: { authorization: `Bearer ${longest}` } });
  t.equal(ok.statusCode, 201, 'the longest accepted sub still fits the recorded actor');
  t.equal(await api.eventCount(), 1);
});

t.test('commands refuse unknown query parameters like the reads do', async (t) => {
  const api = await testApi(t);
  for (const route of ['start', 'heartbeat', 'stop']) {
    const res = await api.inject({ method: 'POST', url: `/v1/accounts/alice/mining/${route}?x=1`, headers: api.as('alice') });
    t.equal(res.statusCode, 400, route);
    t.equal(res.json().code, 'VALIDATION_FAILED');
  }
  t.equal(await api.eventCount(), 0);
});
