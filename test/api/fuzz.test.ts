// Random methods, paths, headers and bodies thrown at the real server. Whatever arrives, the answer
// is a 2xx or a 4xx, every error is the JSON error shape with a known code, and no rejected request
// writes an event (the one designed exception: SESSION_EXPIRED records the stop it reports).
import fc from 'fast-check';
import t from 'tap';
import { testApi } from './helpers.js';

const CODES = new Set([
  'VALIDATION_FAILED', 'INVALID_ACCOUNT_ID', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'NOT_MINING', 'SESSION_EXPIRED',
  'SESSION_MISMATCH', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'RATE_LIMITED',
]);

const ascii = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });
const accountId = fc.oneof(
  { weight: 6, arbitrary: fc.constant('alice') },
  fc.constantFrom('bob', 'a.b@c+d-e_f', 'A'.repeat(128), 'A'.repeat(129)),
  ascii(20).map(encodeURIComponent),
  ascii(12).filter((s) => !/[\s?#]/.test(s)),
);
const tail = fc.constantFrom(
  '', '/', '/mining/start', '/mining/heartbeat', '/mining/stop', '/sessions', '/audit', '/mining', '/mining/start/x', '/Sessions',
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?minPosition=0', '?minPosition=1', '?minPosition=99999999999', '?minPosition=-1', '?minPosition=1e3', '?limit=0',
    '?limit=100', '?limit=101', '?limit=x', '?cursor=czE', '?cursor=%%', '?limit=1&limit=2', '?x=1'),
  fc.tuple(ascii(6), ascii(6)).map(([k, v]) => `?${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
);
const COMMANDS = ['/mining/start', '/mining/heartbeat', '/mining/stop'];
/** Mostly the method a route expects, so that many requests get past routing to the later checks. */
const plausible = fc.tuple(accountId, fc.constantFrom('', '/sessions', '/audit', ...COMMANDS), query).map(
  ([id, rest, q]) => ({ method: COMMANDS.includes(rest) ? 'POST' : 'GET', url: `/v1/accounts/${id}${rest}${q}` }),
);
const path = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(accountId, tail, query).map(([id, rest, q]) => `/v1/accounts/${id}${rest}${q}`) },
  { weight: 1, arbitrary: fc.constantFrom('/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/docs/', '/docs/json', '/docs/static/index.html', '/docs/static/../../package.json', '/v1', '/', '/v1/accounts', '/%', '/v1/accounts/%E0%A4%A') },
  // light-my-request itself refuses backslashes and protocol-relative paths.
  { weight: 1, arbitrary: ascii(30).map((s) => `/${s.replace(/[\s#\\]/g, '').replace(/^\/+/, '')}`) },
);
const method = fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');
const authorization = fc.constantFrom('self', 'self', 'self', 'other', 'gateway', 'auditor', 'admin', 'expired', 'none', 'garbage', 'basic');
const contentType = fc.constantFrom(undefined, undefined, undefined, 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', 'multipart/form-data', '', ';;', 'application/json; charset=latin1');
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ sessionId: fc.oneof(fc.uuid(), ascii(40), fc.integer()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  ascii(60),
  fc.constantFrom('', '{', '{"__proto__":{"a":1}}', '{"constructor":{"prototype":{}}}', 'x'.repeat(20_000)),
);

const request = fc.oneof(plausible, fc.record({ method, url: path }));

type Api = Awaited<ReturnType<typeof testApi>>;

function headersFor(api: Api, who: string, type: string | undefined): Record<string, string> {
  const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
  switch (who) {
    case 'none': return headers;
    case 'self': return { ...headers, ...api.as('alice') };
    case 'other': return { ...headers, ...api.as('bob') };
    case 'expired': return { ...headers, authorization: `Bearer ${api.token({ sub: 'alice', ttlSeconds: 0 })}` };
    case 'garbage': return { ...headers, authorization: 'Bearer a.b.c' };
    case 'basic': return { ...headers, authorization: 'Basic YTpi' };
    default: return { ...headers, ...api.asRole(who as 'gateway' | 'auditor' | 'admin') };
  }
}

/** Why an answer breaks the contract, or undefined when it keeps it. */
function violation(method: string, url: string, status: number, body: string, wrote: boolean): string | undefined {
  const allowed = (status >= 200 && status < 300) || (status >= 400 && status < 500) || (status === 302 && url.startsWith('/docs'));
  if (!allowed) return 'status';
  if (status < 400) return undefined;
  if (method === 'HEAD') return wrote ? 'wrote an event' : undefined;
  const error = JSON.parse(body);
  if (!CODES.has(error.code) || error.statusCode !== status || typeof error.message !== 'string' || typeof error.error !== 'string') {
    return 'error shape';
  }
  return wrote && error.code !== 'SESSION_EXPIRED' ? 'wrote an event' : undefined;
}

const advance = fc.oneof(fc.constant(0), fc.nat(60_000), fc.nat(400_000));

t.test('random requests get only 2xx/4xx, JSON errors with known codes, and rejected ones write nothing', async (t) => {
  const api = await testApi(t, { settings: { commandRateLimitPerMinute: 30 } });
  await api.command('alice', 'start');
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(request, authorization, contentType, body, advance, async ({ method: m, url }, who, type, payload, ms) => {
      api.clock.advance(ms);
      const before = await api.store.headPosition();
      const res = await api.inject({ method: m as 'GET', url, headers: headersFor(api, who, type), ...(payload === undefined ? {} : { payload }) });
      const wrote = (await api.store.headPosition()) !== before;
      const problem = violation(m, url, res.statusCode, res.body, wrote);
      if (problem) throw new Error(`${problem}: ${m} ${url} ${who} ${type} ${String(payload).slice(0, 80)} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      checked++;
    }),
    { numRuns: 400 },
  );
  t.equal(checked, 400);
});
