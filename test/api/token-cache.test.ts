// The token verifier around fast-jwt: an LRU cache of whole tokens (a busy token survives eviction),
// time claims against the injected clock only, and the refusals it adds where fast-jwt is lax.
import { createHmac } from 'node:crypto';
import t from 'tap';
import { signRaw, signToken, tokenVerifier, type TokenVerifier } from '../../src/api/auth.js';
import { ApiError } from '../../src/api/errors.js';
import { SECRET, T0 } from './helpers.js';

const bearer = (token: string) => `Bearer ${token}`;
const userToken = (sub: string, nowMs = T0, ttlSeconds = 3600) => bearer(signToken({ sub, ttlSeconds }, SECRET, nowMs));

function refusal(verifier: TokenVerifier, header: string, nowMs = T0): string | undefined {
  try {
    verifier.verify(header, nowMs);
    return undefined;
  } catch (error) {
    if (error instanceof ApiError && error.statusCode === 401) return error.message;
    throw error;
  }
}

t.test('least recently used goes first: the token used again survives, the idle one is evicted', async (t) => {
  const verifier = tokenVerifier(SECRET, { cacheEntries: 2 });
  const [a, b, c] = [userToken('a'), userToken('b'), userToken('c')];
  const misses = (header: string) => {
    const before = verifier.stats().misses;
    t.equal(verifier.verify(header, T0).sub !== undefined, true);
    return verifier.stats().misses - before;
  };
  t.same([misses(a), misses(b), misses(a)], [1, 1, 0], 'a and b verified once, a then from the cache');
  t.equal(misses(c), 1, 'c takes the place of the least recently used: b');
  t.equal(misses(a), 0, 'a, inserted first but used since, is still cached');
  t.equal(misses(b), 1, 'b was evicted and is verified again');
  t.same(verifier.stats(), { hits: 2, misses: 4, size: 2 });
});

t.test("a gateway's one busy token stays cached through a flood of one-off tokens", async (t) => {
  const verifier = tokenVerifier(SECRET, { cacheEntries: 100 });
  const gateway = bearer(signToken({ role: 'gateway', sub: 'edge-1', ttlSeconds: 3600 }, SECRET, T0));
  verifier.verify(gateway, T0);
  for (let i = 0; i < 1000; i++) {
    verifier.verify(userToken(`miner-${i}`), T0);
    t.equal(verifier.verify(gateway, T0).role, 'gateway');
  }
  t.same(verifier.stats(), { hits: 1000, misses: 1001, size: 100 }, 'the gateway token was verified once; each one-off once');
});

t.test('time claims are checked against the injected clock, on every hit', async (t) => {
  const verifier = tokenVerifier(SECRET);
  // Far from the real clock both ways: fast-jwt would judge these by Date.now() if it judged them.
  for (const at of [Date.UTC(2001, 0, 1), Date.UTC(2101, 0, 1)]) {
    const token = userToken('alice', at, 60);
    t.equal(verifier.verify(token, at).sub, 'alice', new Date(at).toISOString());
    t.equal(refusal(verifier, token, at + 60_000), 'token expired', 'expired by the injected clock although cached');
  }
  const now = Math.floor(T0 / 1000);
  const later = bearer(signRaw({ alg: 'HS256' }, { sub: 'alice', nbf: now + 10, exp: now + 60 }, SECRET));
  t.equal(refusal(verifier, later, T0), 'token not valid yet');
  t.equal(refusal(verifier, later, T0 + 10_000), undefined, 'valid once the injected clock reaches nbf');
  const hitsBefore = verifier.stats().hits;
  t.equal(refusal(verifier, later, T0 + 20_000), undefined);
  t.equal(verifier.stats().hits, hitsBefore + 1, 'from the cache');
});

t.test('each refusal names its reason; fast-jwt errors are given our words; a refusal is not cached', async (t) => {
  const verifier = tokenVerifier(SECRET);
  const now = Math.floor(T0 / 1000);
  const claims = `{"sub":"alice","iat":${now},"exp":${now + 3600}}`;
  const signTexts = (header: string, payload: string) => {
    const signed = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
    return bearer(`${signed}.${createHmac('sha256', SECRET).update(signed).digest('base64url')}`);
  };
  const good = signTexts('{"alg":"HS256","typ":"JWT"}', claims);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const lowBits = `${good.slice(0, -1)}${alphabet[alphabet.indexOf(good.at(-1)!) ^ 1]}`;
  const cases: [string, string][] = [
    [lowBits, 'token signature is not canonical base64url'],
    [signTexts('{"alg":"none","alg":"HS256"}', claims), 'token header has a duplicated key'],
    [signTexts('{"alg":"HS256"}', `{"sub":"bob","sub":"alice","exp":${now + 60}}`), 'token claims have a duplicated key'],
    [signTexts('{"alg":"HS256","crit":null}', claims), 'token header has crit extensions this server does not support'],
    [signTexts('{"alg":"HS256","crit":["exp"]}', claims), 'token header has crit extensions this server does not support'],
    [signTexts('{"alg":"HS256","typ":"XYZ"}', claims), 'token type must be JWT'],
    [signTexts('{"alg":"HS512"}', claims), 'token algorithm must be HS256'],
    [signTexts('[1]', claims), 'malformed token'],
    [signTexts('{"alg":"HS256"}', '[1]'), 'malformed token claims'],
    [signTexts('{"alg":"HS256"}', '{"sub":"alice"}'), 'token has no exp'],
    [signTexts('{"alg":"HS256"}', `{"sub":"alice","iat":${now + 61},"exp":${now + 3600}}`), 'token issued in the future'],
    [signTexts('{"alg":"HS256"}', `{"sub":"alice","exp":${now + 400 * 86400}}`), "token lifetime exceeds the server's cap of 31622400 s"],
    [bearer(signToken({ sub: 'alice', ttlSeconds: 60 }, Buffer.from('another-secret-another-secret-another'), T0)), 'token signature does not verify'],
    [bearer(`${'a'.repeat(4000)}.${'b'.repeat(100)}.${good.slice(-43)}`), 'token too long'],
  ];
  for (const [header, message] of cases) t.equal(refusal(verifier, header), message, message);
  t.equal(refusal(verifier, good), undefined, 'the plain token verifies');
  const misses = verifier.stats().misses;
  t.equal(refusal(verifier, lowBits), 'token signature is not canonical base64url', 'refused again');
  t.equal(verifier.stats().misses, misses + 1, 'a refused token is checked again, never served from the cache');
});
