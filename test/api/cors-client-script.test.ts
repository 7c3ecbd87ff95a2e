// GET /ui/client.js (cached, ETag, 304, importable as it is served) and CORS_ORIGINS: preflight for
// the routes the client uses, exact origins only, Retry-After readable cross-origin, errors included.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import t from 'tap';
import { readFileSync } from 'node:fs';
import { CLIENT_CACHE_CONTROL, clientScriptRoute, writeClientBundle } from '../../src/api/client-script.js';
import { testApi } from './helpers.js';

t.setTimeout(300_000);
const APP = 'http://app.example.test';

t.test('serve ships the client at /ui/client.js with a long cache lifetime and an ETag, 304 on a match', async (t) => {
  const api = await testApi(t, { settings: { corsOrigins: [APP] } });
  const first = await api.inject({ method: 'GET', url: '/ui/client.js', headers: { origin: 'https://anyone.example' } });
  t.equal(first.statusCode, 200);
  t.match(first.headers['content-type'], /^text\/javascript/);
  t.equal(first.headers['cache-control'], CLIENT_CACHE_CONTROL);
  t.match(first.headers['cache-control'], /max-age=604800/);
  t.equal(first.headers['access-control-allow-origin'], '*', 'public code, loadable as a module script from any page');
  const etag = first.headers.etag as string;
  t.match(etag, /^"[A-Za-z0-9_-]{27}"$/);
  t.ok(first.body.length < 12_000, `small: ${first.body.length} bytes minified`);
  t.notMatch(first.body, /node:|require\(/, 'no Node-only imports');

  for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const again = await api.inject({ method: 'GET', url: '/ui/client.js', headers: { 'if-none-match': ifNoneMatch } });
    t.equal(again.statusCode, 304, `If-None-Match: ${ifNoneMatch}`);
    t.equal(again.body, '');
    t.equal(again.headers.etag, etag);
  }
  t.equal((await api.inject({ method: 'GET', url: '/ui/client.js', headers: { 'if-none-match': '"stale"' } })).statusCode, 200);

  // What a browser gets is a working ES module.
  const file = join(mkdtempSync(join(tmpdir(), 'client-js-')), 'client.mjs');
  writeFileSync(file, first.body);
  const served = (await import(pathToFileURL(file).href)) as typeof import('../../src/client/index.js');
  const client = served.createMiningClient({
    baseUrl: 'http://api.test', token: api.token({ sub: 'served' }),
    fetch: async (url, init) => {
      const res = await api.inject({ method: init.method as 'POST', url: new URL(url).pathname, headers: init.headers, ...(init.body === undefined ? {} : { payload: init.body }) });
      return { status: res.statusCode, headers: { get: (n: string) => (res.headers[n] as string | undefined) ?? null }, text: async () => res.body };
    },
  });
  t.equal((await client.start()).created, true);
  const error = await client.heartbeat({ sessionId: '00000000-0000-7000-8000-000000000000' }).catch((e: unknown) => e);
  t.ok(error instanceof served.MiningApiError);
  t.match(error, { status: 409, code: 'SESSION_MISMATCH' });
});

t.test('CORS_ORIGINS: preflight and answers for a listed origin only; Retry-After exposed', async (t) => {
  const api = await testApi(t, { settings: { corsOrigins: [APP, 'http://localhost:5173'], commandRateLimitPerMinute: 1 } });
  const preflight = (url: string, origin: string, method = 'POST') => api.inject({
    method: 'OPTIONS', url,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
  });
  for (const [url, method] of [
    ['/v1/accounts/alice/mining/start', 'POST'], ['/v1/accounts/alice/mining/heartbeat', 'POST'], ['/v1/accounts/alice/mining/stop', 'POST'],
    ['/v1/accounts/alice', 'GET'], ['/v1/accounts/alice/sessions', 'GET'], ['/v1/accounts/alice/audit', 'GET'], ['/v1/accounts/alice/adjustments', 'POST'],
  ] as const) {
    const res = await preflight(url, APP, method);
    t.equal(res.statusCode, 204, `preflight ${method} ${url}`);
    t.equal(res.headers['access-control-allow-origin'], APP);
    t.match(res.headers['access-control-allow-headers'], /authorization/);
    t.match(res.headers['access-control-allow-methods'], /POST/);
    t.equal(res.headers['access-control-allow-credentials'], undefined, 'no credentials mode');
  }
  const stranger = await preflight('/v1/accounts/alice/mining/start', 'https://evil.example');
  t.equal(stranger.headers['access-control-allow-origin'], undefined, 'an unlisted origin gets no allowance');
  const prefix = await preflight('/v1/accounts/alice/mining/start', `${APP}.evil.example`);
  t.equal(prefix.headers['access-control-allow-origin'], undefined, 'exact match, not a prefix');

  const auth = { ...api.as('alice'), origin: APP };
  const started = await api.inject({ method: 'POST', url: '/v1/accounts/alice/mining/start', headers: auth });
  t.equal(started.statusCode, 201);
  t.equal(started.headers['access-control-allow-origin'], APP);
  t.match(started.headers.vary, /Origin/);
  const limited = await api.inject({ method: 'POST', url: '/v1/accounts/alice/mining/heartbeat', headers: auth });
  t.equal(limited.statusCode, 429);
  t.equal(limited.headers['access-control-allow-origin'], APP, 'errors carry the allowance, so the client can read them');
  t.match(limited.headers['access-control-expose-headers'], /retry-after/i);
  t.ok(limited.headers['retry-after']);
  const unauthorized = await api.inject({ method: 'GET', url: '/v1/accounts/alice', headers: { origin: APP } });
  t.equal(unauthorized.statusCode, 401);
  t.equal(unauthorized.headers['access-control-allow-origin'], APP);
});

t.test('without CORS_ORIGINS no page on another origin is allowed', async (t) => {
  const api = await testApi(t);
  const res = await api.inject({ method: 'GET', url: '/v1/accounts/alice', headers: { ...api.as('alice'), origin: APP } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['access-control-allow-origin'], undefined);
  const preflight = await api.inject({ method: 'OPTIONS', url: '/v1/accounts/alice', headers: { origin: APP, 'access-control-request-method': 'GET' } });
  t.equal(preflight.statusCode, 404);
  t.equal(preflight.headers['access-control-allow-origin'], undefined);
});

t.test('the route reads the built bundle, and answers 503 while there is none to be had', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'client-built-'));
  const built = join(dir, 'client.js');
  writeFileSync(built, 'export const built = true;\n');
  const app = Fastify();
  await app.register(clientScriptRoute, { path: built, bundle: async () => { throw new Error('must not bundle'); } });
  t.equal((await app.inject({ method: 'GET', url: '/ui/client.js' })).body, 'export const built = true;\n');

  let attempts = 0;
  const broken = Fastify({ logger: false });
  await broken.register(clientScriptRoute, { path: join(dir, 'absent.js'), bundle: async () => { attempts++; throw new Error('no esbuild'); } });
  const res = await broken.inject({ method: 'GET', url: '/ui/client.js' });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '60');
  t.match(res.json(), { code: 'UNAVAILABLE', message: /npm run build/ });
  await broken.inject({ method: 'GET', url: '/ui/client.js' });
  t.equal(attempts, 2, 'a failed bundle is tried again, not cached');
});

t.test('the build step writes one self-contained, minified module', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'client-build-')), 'ui', 'client.js');
  t.equal(await writeClientBundle(path), path);
  const code = readFileSync(path, 'utf8');
  t.match(code, /export\s*\{/);
  t.notMatch(code, /from\s*["'][^"']+["']/, 'no imports left: nothing else to fetch');
  t.notMatch(code, /typebox|fastify/i, 'no server code in the bundle');
  t.ok(code.split('\n').length <= 3, 'minified');
});
