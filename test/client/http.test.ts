// createMiningClient's methods against the real API (one shared app, an account per test), and the
// error mapping: status, code, message and Retry-After, whatever shape the failure takes.
import t from 'tap';
import { createMiningClient, MiningApiError } from '../../src/client/index.js';
import { subjectOf, type FetchLike, type RequestInitLike } from '../../src/client/http.js';
import { parseRetryAfter } from '../../src/client/errors.js';
import { harness } from './harness.js';

t.setTimeout(300_000);

t.test('a method per route: start, heartbeat, stop, account, sessions, audit', async (t) => {
  const h = await harness(t);
  const client = h.client();
  const started = await client.start();
  t.equal(started.created, true);
  t.equal(started.accountId, h.account, 'the account is the token\'s sub');
  t.equal((await client.start()).created, false, 'idempotent');
  await h.api.clock.advance(30_000);
  const beat = await client.heartbeat({ sessionId: started.session.sessionId });
  t.equal(beat.recorded, true);
  await h.api.clock.advance(10_000);
  const stopped = await client.stop();
  t.equal(stopped.session.reason, 'user');
  t.equal(stopped.session.creditedMs, 40_000);
  const account = await client.account({ minPosition: stopped.position });
  t.equal(account.creditedMs, 40_000);
  t.equal(account.mining, false);
  t.equal(account.balanceUnits, '277777');
  const page = await client.sessions({ limit: 1, minPosition: stopped.position });
  t.equal(page.sessions.length, 1);
  t.equal(page.sessions[0]!.sessionId, started.session.sessionId);
  const audit = await client.audit({ minPosition: stopped.position });
  t.equal(audit.replayedBalanceUnits, '277777');
  t.equal(audit.matches, true);
  t.same(h.calls.map((c) => `${c.method} ${c.path}`), [
    `POST /v1/accounts/${h.account}/mining/start`,
    `POST /v1/accounts/${h.account}/mining/start`,
    `POST /v1/accounts/${h.account}/mining/heartbeat`,
    `POST /v1/accounts/${h.account}/mining/stop`,
    `GET /v1/accounts/${h.account}?minPosition=${stopped.position}`,
    `GET /v1/accounts/${h.account}/sessions?minPosition=${stopped.position}&limit=1`,
    `GET /v1/accounts/${h.account}/audit?minPosition=${stopped.position}`,
  ]);
});

t.test('adjust and adjustments speak SPEC §10: POST and GET …/adjustments', async (t) => {
  const seen: Array<{ url: string; init: RequestInitLike }> = [];
  const answers = [
    { status: 201, body: { accountId: 'alice', adjustment: { adjustmentId: 'a' }, balance: '1.00000000', balanceUnits: '100000000', position: '3' } },
    { status: 200, body: { adjustments: [], nextCursor: null } },
  ];
  const fetch: FetchLike = async (url, init) => {
    seen.push({ url, init });
    const { status, body } = answers.shift()!;
    return { status, headers: { get: () => null }, text: async () => JSON.stringify(body) };
  };
  const client = createMiningClient({ baseUrl: 'https://api.example.com/ledger/', token: 'admin-token', accountId: 'alice', fetch });
  const input = { adjustmentId: '0190c0de-0000-7000-8000-000000000001', amount: '-7.64', reason: 'correction' as const, note: 'offline accrual' };
  const result = await client.adjust(input);
  t.equal(result.created, true);
  t.equal(result.balanceUnits, '100000000');
  t.same(await client.adjustments({ limit: 10 }), { adjustments: [], nextCursor: null });
  t.equal(seen[0]!.url, 'https://api.example.com/ledger/v1/accounts/alice/adjustments', 'a path prefix in baseUrl is kept');
  t.equal(seen[0]!.init.method, 'POST');
  t.same(JSON.parse(seen[0]!.init.body!), input);
  t.equal(seen[0]!.init.headers['content-type'], 'application/json');
  t.equal(seen[0]!.init.headers.authorization, 'Bearer admin-token');
  t.equal(seen[1]!.init.method, 'GET');
  t.equal(seen[1]!.url, 'https://api.example.com/ledger/v1/accounts/alice/adjustments?limit=10');
  t.equal(seen[1]!.init.body, undefined);
});

t.test('failures are MiningApiError{status, code, message, retryAfter}', async (t) => {
  const h = await harness(t, { settings: { commandRateLimitPerMinute: 1 } });
  const client = h.client();
  await client.start();
  const limited = await client.heartbeat().catch((e: unknown) => e);
  t.type(limited, MiningApiError);
  t.match(limited, { status: 429, code: 'RATE_LIMITED', retryable: true });
  t.ok((limited as MiningApiError).retryAfter! > 0, 'Retry-After read from the answer');
  const forbidden = await client.account({ accountId: 'someone-else' }).catch((e: unknown) => e);
  t.match(forbidden, { status: 403, code: 'FORBIDDEN', retryable: false, message: /may not read/ });
  const invalid = await client.sessions({ limit: 1000 }).catch((e: unknown) => e);
  t.match(invalid, { status: 400, code: 'VALIDATION_FAILED' });
});

t.test('an answer that is not the API\'s error shape, and no answer at all', async (t) => {
  const replies: Array<() => Promise<{ status: number; headers: { get(n: string): string | null }; text(): Promise<string> }>> = [
    async () => ({ status: 502, headers: { get: () => null }, text: async () => '<html>bad gateway</html>' }),
    async () => { throw new TypeError('Failed to fetch'); },
    async () => { throw 'weird'; },
    async () => ({ status: 204, headers: { get: () => null }, text: async () => '' }),
  ];
  const client = createMiningClient({ baseUrl: 'http://x', token: 'tok', accountId: 'a', fetch: () => replies.shift()!() });
  t.match(await client.stop().catch((e: unknown) => e), { status: 502, code: 'HTTP_502', message: 'POST http://x/v1/accounts/a/mining/stop answered 502', retryable: true });
  t.match(await client.stop().catch((e: unknown) => e), { status: 0, code: 'NETWORK_ERROR', message: /Failed to fetch/ });
  t.match(await client.stop().catch((e: unknown) => e), { status: 0, code: 'NETWORK_ERROR', message: /weird/ });
  t.equal(await client.stop(), undefined, 'an empty success body');
});

t.test('getToken is asked before every request; the account comes from its sub', async (t) => {
  const h = await harness(t);
  let asked = 0;
  const client = h.client({ token: undefined, getToken: async () => { asked++; return h.api.token({ sub: h.account }); } });
  await client.start();
  await client.stop();
  t.equal(asked, 2);
  t.equal(h.calls[0]!.path, `/v1/accounts/${h.account}/mining/start`);
});

t.test('stopOnUnload: keepalive stop with the last token; false when there is none to send', async (t) => {
  const sent: RequestInitLike[] = [];
  const fetch: FetchLike = async (_url, init) => { sent.push(init); return { status: 200, headers: { get: () => null }, text: async () => '{}' }; };
  const client = createMiningClient({ baseUrl: 'http://x', getToken: () => 'tok', accountId: 'a', fetch });
  t.equal(client.stopOnUnload(), false, 'no token seen yet');
  await client.account();
  t.equal(client.stopOnUnload(), true);
  t.same(sent[1], { method: 'POST', headers: { authorization: 'Bearer tok' }, keepalive: true });
  const rejecting = createMiningClient({ baseUrl: 'http://x', token: 'tok', accountId: 'a', fetch: () => Promise.reject(new Error('gone')) });
  t.equal(rejecting.stopOnUnload(), true, 'a failed unload stop is swallowed: the page is gone');
  const noAccount = createMiningClient({ baseUrl: 'http://x', token: 'not-a-jwt', fetch });
  t.equal(noAccount.stopOnUnload(), false);
});

t.test('configuration mistakes are clear', async (t) => {
  t.throws(() => createMiningClient({ baseUrl: 'http://x' }), new TypeError('createMiningClient: token or getToken is required'));
  const client = createMiningClient({ baseUrl: 'http://x', token: 'not-a-jwt', fetch: async () => { throw new Error('unreachable'); } });
  await t.rejects(client.account(), { name: 'MiningApiError', code: 'NO_ACCOUNT' });
});

t.test('subjectOf and parseRetryAfter', async (t) => {
  const payload = Buffer.from(JSON.stringify({ sub: 'fabian@bsn.com', exp: 1 })).toString('base64url');
  t.equal(subjectOf(`h.${payload}.s`), 'fabian@bsn.com');
  t.equal(subjectOf(`h.${Buffer.from('{"role":"gateway"}').toString('base64url')}.s`), undefined);
  t.equal(subjectOf('h.!!!.s'), undefined);
  t.equal(subjectOf('opaque'), undefined);
  const now = Date.UTC(2026, 0, 1);
  t.equal(parseRetryAfter('7', now), 7);
  t.equal(parseRetryAfter(new Date(now + 4500).toUTCString(), now), 4);
  t.equal(parseRetryAfter(new Date(now - 9000).toUTCString(), now), 0);
  t.equal(parseRetryAfter('soon', now), undefined);
  t.equal(parseRetryAfter(null, now), undefined);
  t.equal(parseRetryAfter(' ', now), undefined);
});
