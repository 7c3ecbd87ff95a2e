// SPEC §15 "Tokens": each forged variant carries a valid HMAC and is still refused with 401.
import { createHmac } from 'node:crypto';
import t from 'tap';
import { signRaw } from '../../src/api/auth.js';
import { SECRET, T0, testApi } from '../api/helpers.js';

const now = Math.floor(T0 / 1000);
/** Signs exactly the JSON texts given (duplicated keys survive, which JSON.stringify would drop). */
function signTexts(header: string, payload: string): string {
  const signed = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${signed}.${createHmac('sha256', SECRET).update(signed).digest('base64url')}`;
}
const HS256 = '{"alg":"HS256","typ":"JWT"}';

t.test('forged tokens with a valid HMAC are 401; the plain one works', async (t) => {
  const api = await testApi(t);
  const get = (token: string, account = 'alice') =>
    api.inject({ method: 'GET', url: `/v1/accounts/${account}`, headers: { authorization: `Bearer ${token}` } });
  const good = signRaw({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', iat: now, exp: now + 3600 }, SECRET);
  t.equal((await get(good)).statusCode, 200);

  const signature = good.slice(good.lastIndexOf('.') + 1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(signature.at(-1)!);
  for (let low = 1; low < 4; low++) {
    const variant = `${good.slice(0, good.lastIndexOf('.') + 1)}${signature.slice(0, -1)}${alphabet[last ^ low]}`;
    t.equal((await get(variant)).statusCode, 401, `signature spelled with low bits ${low}`);
  }
  const cases: [string, string][] = [
    ['{"alg":"none","alg":"HS256"}', `{"sub":"alice","iat":${now},"exp":${now + 3600}}`],
    [HS256, `{"sub":"bob","sub":"alice","iat":${now},"exp":${now + 3600}}`],
    ['{"alg":"HS256","crit":["exp"]}', `{"sub":"alice","iat":${now},"exp":${now + 3600}}`],
    [HS256, `{"sub":"alice","iat":${now + 365 * 86400},"exp":${now + 366 * 86400}}`],
    [HS256, `{"sub":"alice","iat":${now + 61},"exp":${now + 3600}}`],
    [HS256, `{"sub":"alice","iat":${now},"exp":${now + 400 * 86400}}`],
  ];
  for (const [header, payload] of cases) {
    const res = await get(signTexts(header, payload));
    t.equal(res.statusCode, 401, `${header} ${payload}: ${res.json().message}`);
    t.equal(res.json().code, 'UNAUTHORIZED');
  }
  t.equal((await get(signTexts(HS256, `{"sub":"alice","iat":${now + 59},"exp":${now + 3600}}`))).statusCode, 200, 'iat within 60 s skew');
  t.equal((await get(signTexts(HS256, `{"sub":"alice","note":"a \\"sub\\": b","exp":${now + 3600}}`))).statusCode, 200, 'a colon inside a string is no key');
});

t.test('two Authorization headers are refused with 400', async (t) => {
  const api = await testApi(t);
  const good = `Bearer ${api.token({ sub: 'alice' })}`;
  const res = await api.inject({
    method: 'GET', url: '/v1/accounts/alice',
    headers: { authorization: [good, `Bearer ${api.token({ sub: 'bob' })}`] as unknown as string },
  });
  t.equal(res.statusCode, 400);
  t.equal(res.json().code, 'VALIDATION_FAILED');
});
