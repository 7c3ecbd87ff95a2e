// Bearer JWT HS256: what verifies and what does not, the whole who-may-do-what matrix, and the
// actor each kind of token leaves in the events' metadata.
import { createHmac } from 'node:crypto';
import t from 'tap';
import { actorOf, signRaw, signToken, tokenVerifier } from '../../src/api/auth.js';
import { ApiError } from '../../src/api/errors.js';
import { SECRET, T0, testApi } from './helpers.js';

const NOW = T0;
const exp = Math.floor(NOW / 1000) + 60;
const verifier = tokenVerifier(SECRET);
const bearer = (token: string) => `Bearer ${token}`;

function rejection(header: string | undefined, now = NOW): string | undefined {
  try {
    verifier.verify(header, now);
    return undefined;
  } catch (error) {
    if (error instanceof ApiError && error.statusCode === 401 && error.code === 'UNAUTHORIZED') return error.message;
    throw error;
  }
}

t.test('a well-formed HS256 token verifies to its sub and role', async (t) => {
  t.same(verifier.verify(bearer(signToken({ sub: 'alice', ttlSeconds: 60 }, SECRET, NOW)), NOW), { sub: 'alice', role: undefined, exp });
  t.same(verifier.verify(bearer(signToken({ role: 'auditor', ttlSeconds: 60 }, SECRET, NOW)), NOW), { sub: undefined, role: 'auditor', exp });
  t.same(verifier.verify(`bearer ${signToken({ role: 'admin', sub: 'ops', ttlSeconds: 60 }, SECRET, NOW)}`, NOW).role, 'admin', 'scheme is case-insensitive');
});

t.test('401 for missing, malformed, forged, expired, exp-less and non-HS256 tokens', async (t) => {
  const good = signToken({ sub: 'alice', ttlSeconds: 60 }, SECRET, NOW);
  const [h, p, s] = good.split('.') as [string, string, string];
  const other = Buffer.from('another-secret-another-secret-another');
  const cases: Record<string, string | undefined> = {
    missing: undefined,
    'basic scheme': `Basic ${Buffer.from('a:b').toString('base64')}`,
    'bearer without token': 'Bearer ',
    'two segments': bearer(`${h}.${p}`),
    'four segments': bearer(`${good}.x`),
    'empty payload': bearer(`${h}..${s}`),
    'signature of another secret': bearer(signToken({ sub: 'alice', ttlSeconds: 60 }, other, NOW)),
    'tampered payload': bearer(`${h}.${Buffer.from(JSON.stringify({ sub: 'bob', exp })).toString('base64url')}.${s}`),
    'signature with padding': bearer(`${good}=`),
    'signature with bad characters': bearer(`${h}.${p}.${s.slice(0, -1)}+`),
    'alg none': bearer(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`),
    'alg HS512 (validly signed)': bearer(signRaw({ alg: 'HS512', typ: 'JWT' }, { sub: 'alice', exp }, SECRET)),
    'typ not JWT': bearer(signRaw({ alg: 'HS256', typ: 'XYZ' }, { sub: 'alice', exp }, SECRET)),
    'no exp': bearer(signRaw({ alg: 'HS256' }, { sub: 'alice' }, SECRET)),
    'exp as string': bearer(signRaw({ alg: 'HS256' }, { sub: 'alice', exp: String(exp) }, SECRET)),
    expired: bearer(signRaw({ alg: 'HS256' }, { sub: 'alice', exp: Math.floor(NOW / 1000) }, SECRET)),
    'not yet valid': bearer(signRaw({ alg: 'HS256' }, { sub: 'alice', exp, nbf: exp - 1 }, SECRET)),
    'unknown role': bearer(signRaw({ alg: 'HS256' }, { role: 'root', exp }, SECRET)),
    'neither sub nor role': bearer(signRaw({ alg: 'HS256' }, { exp }, SECRET)),
    'sub not a string': bearer(signRaw({ alg: 'HS256' }, { sub: 7, exp }, SECRET)),
    'claims an array': bearer(signRaw({ alg: 'HS256' }, [1], SECRET)),
    'header not JSON': bearer(`${Buffer.from('{').toString('base64url')}.${p}.${createHmac('sha256', SECRET).update(`${Buffer.from('{').toString('base64url')}.${p}`).digest('base64url')}`),
  };
  for (const [name, header] of Object.entries(cases)) t.ok(rejection(header), name);
});

t.test('a remembered token still expires: exp is checked on every request', async (t) => {
  const token = bearer(signToken({ sub: 'alice', ttlSeconds: 60 }, SECRET, NOW));
  t.equal(rejection(token, NOW), undefined);
  t.equal(rejection(token, NOW + 59_999), undefined);
  t.equal(rejection(token, NOW + 60_000), 'token expired');
});

t.test('actors recorded for each kind of token', async (t) => {
  const p = (sub: string | undefined, role: 'gateway' | 'auditor' | 'admin' | undefined) => ({ sub, role, exp });
  t.same(actorOf(p('alice', undefined)), { kind: 'user', id: 'alice' });
  t.same(actorOf(p('edge-1', 'gateway')), { kind: 'gateway', id: 'edge-1' });
  t.same(actorOf(p(undefined, 'gateway')), { kind: 'gateway', id: 'gateway' });
  t.same(actorOf(p('ops', 'admin')), { kind: 'gateway', id: 'admin:ops' });
  t.same(actorOf(p(undefined, 'admin')), { kind: 'gateway', id: 'admin:admin' });
});

type Who = 'self' | 'other' | 'gateway' | 'auditor' | 'admin' | 'none' | 'expired';
const ROUTES = [
  ['POST', 'mining/start', 'command'], ['POST', 'mining/heartbeat', 'command'], ['POST', 'mining/stop', 'command'],
  ['GET', '', 'read'], ['GET', 'sessions', 'read'], ['GET', 'audit', 'read'],
] as const;
const EXPECTED: Record<Who, Record<'command' | 'read', number | 'allowed'>> = {
  self: { command: 'allowed', read: 'allowed' },
  other: { command: 403, read: 403 },
  gateway: { command: 'allowed', read: 'allowed' },
  auditor: { command: 403, read: 'allowed' },
  admin: { command: 'allowed', read: 'allowed' },
  none: { command: 401, read: 401 },
  expired: { command: 401, read: 401 },
};

t.test('the auth matrix: every route for every kind of caller', async (t) => {
  const api = await testApi(t);
  const headers = (who: Who): Record<string, string> => {
    switch (who) {
      case 'self': return api.as('alice');
      case 'other': return api.as('bob');
      case 'none': return {};
      case 'expired': return { authorization: bearer(api.token({ sub: 'alice', ttlSeconds: 0 })) };
      default: return api.asRole(who);
    }
  };
  for (const who of Object.keys(EXPECTED) as Who[]) {
    for (const [method, path, access] of ROUTES) {
      const res = await api.inject({ method, url: `/v1/accounts/alice${path ? `/${path}` : ''}`, headers: headers(who) });
      const expected = EXPECTED[who][access];
      if (expected === 'allowed') {
        t.ok(access === 'read' ? res.statusCode === 200 : [200, 201, 409].includes(res.statusCode), `${who} ${method} /${path}: ${res.statusCode}`);
      } else {
        t.equal(res.statusCode, expected, `${who} ${method} /${path}`);
        t.equal(res.json().code, expected === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN');
        if (expected === 401) t.equal(res.headers['www-authenticate'], 'Bearer');
      }
    }
  }
});

t.test('events name the actor of the token that caused them', async (t) => {
  const api = await testApi(t);
  const post = (command: string, headers: Record<string, string>) =>
    api.inject({ method: 'POST', url: `/v1/accounts/alice/mining/${command}`, headers });
  await post('start', api.as('alice'));
  api.clock.advance(1000);
  await post('heartbeat', { authorization: bearer(api.token({ role: 'gateway', sub: 'edge-7' })) });
  api.clock.advance(1000);
  await post('stop', api.asRole('admin'));
  const actors = [];
  for await (const event of api.store.readAll()) actors.push((event.metadata as { actor: unknown }).actor);
  t.same(actors, [{ kind: 'user', id: 'alice' }, { kind: 'gateway', id: 'edge-7' }, { kind: 'gateway', id: 'admin:admin' }]);
});
