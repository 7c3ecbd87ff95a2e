// A path parameter longer than the router takes (2,048 characters): authentication comes first
// (401 without a valid token), and no answer echoes the long URL back (SPEC §15, issue 9 item 9).
import t from 'tap';
import { testApi } from '../api/helpers.js';

const long = 'a'.repeat(15_000);

t.test('an over-long account id without a token is 401, with a token 400, never echoing the URL', async (t) => {
  const api = await testApi(t);
  for (const [method, url] of [
    ['POST', `/v1/accounts/${long}/mining/start`],
    ['GET', `/v1/accounts/${long}/balance`],
    ['GET', `/v1/accounts/${'b'.repeat(2049)}`],
  ] as const) {
    const anonymous = await api.inject({ method, url });
    t.equal(anonymous.statusCode, 401, `${method} without a token: 401`);
    t.equal(anonymous.json().code, 'UNAUTHORIZED');
    t.ok(anonymous.body.length < 400, `${method}: the body does not echo the URL (${anonymous.body.length} bytes)`);
    const forged = await api.inject({ method, url, headers: { authorization: 'Bearer not.a.token' } });
    t.equal(forged.statusCode, 401, `${method} with a bad token: 401`);
    const authed = await api.inject({ method, url, headers: api.as('alice') });
    t.equal(authed.statusCode, 400, `${method} with a valid token: 400`);
    t.equal(authed.json().code, 'VALIDATION_FAILED');
    t.ok(authed.body.length < 400, `${method}: the 400 does not echo the URL (${authed.body.length} bytes)`);
  }
  t.equal(await api.eventCount(), 0, 'nothing was written');
});
