// POST/GET /v1/accounts/:accountId/adjustments (SPEC §10): the access matrix, every bad input
// (400 with a code, nothing written), idempotent repeats, conflicts, and balances that include them.
import t from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import { testApi, type TestApi } from './helpers.js';

// Seven real APIs (store, projector, Fastify) are built here; on a loaded machine that takes longer
// than the suite's default 120 s.
t.setTimeout(600_000);

const ID = '0190f0e0-0000-7000-8000-00000000a001';
const ID2 = '0190f0e0-0000-7000-8000-00000000a002';

function post(api: TestApi, accountId: string, body: unknown, headers = api.asRole('admin')): Promise<LightMyRequestResponse> {
  const url = `/v1/accounts/${accountId}/adjustments`;
  if (typeof body === 'string') return api.inject({ method: 'POST', url, payload: body, headers: { ...headers, 'content-type': 'application/json' } });
  return api.inject({ method: 'POST', url, headers, payload: body as object });
}

function list(api: TestApi, accountId: string, query = '', headers = api.asRole('admin')): Promise<LightMyRequestResponse> {
  return api.inject({ method: 'GET', url: `/v1/accounts/${accountId}/adjustments${query}`, headers });
}

const migration = { adjustmentId: ID, amount: '12.5', reason: 'migration', note: 'opening balance', reference: 'legacy#17' };

/** Alice mines one hour: 0.25 tokens (heartbeats exactly T apart are on time: few requests). */
async function oneHour(api: TestApi): Promise<void> {
  await api.command('alice', 'start');
  for (let i = 0; i < 12; i++) {
    api.clock.advance(300_000);
    await api.command('alice', 'heartbeat');
  }
  await api.command('alice', 'stop');
}

t.test('an admin adjusts: 201 with the adjustment and the new balance; GET shows it and the balance includes it', async (t) => {
  const api = await testApi(t);
  await oneHour(api);
  const res = await post(api, 'alice', { adjustmentId: ID, amount: '-0.05', reason: 'correction', note: 'over-accrual' });
  t.equal(res.statusCode, 201);
  const body = res.json();
  t.equal(body.balance, '0.20000000');
  t.equal(body.balanceUnits, '20000000');
  t.same(body.adjustment, {
    adjustmentId: ID, at: new Date(api.clock.now()).toISOString(), amount: '-0.05000000', amountUnits: '-5000000',
    reason: 'correction', note: 'over-accrual', reference: null, actor: { kind: 'gateway', id: 'admin:admin' },
  });
  const account = await api.inject({ method: 'GET', url: `/v1/accounts/alice?minPosition=${body.position}`, headers: api.as('alice') });
  t.equal(account.json().balanceUnits, '20000000', 'GET /v1/accounts/:id includes the adjustment');
  const listed = await list(api, 'alice', `?minPosition=${body.position}`, api.as('alice'));
  t.equal(listed.statusCode, 200);
  t.same(listed.json(), { adjustments: [body.adjustment], nextCursor: null });
  const audit = await api.inject({ method: 'GET', url: '/v1/accounts/alice/audit', headers: api.asRole('auditor') });
  const ledger = audit.json();
  t.same(ledger.adjustments, [body.adjustment], 'the ledger lists it with its actor');
  t.equal(ledger.adjustedUnits, '-5000000');
  t.equal(ledger.replayedBalanceUnits, '20000000');
  t.equal(ledger.matches, true, 'replay and projection agree to the unit');
});

t.test('the same adjustment again: 200, the original, nothing written; other content: 409 ADJUSTMENT_CONFLICT', async (t) => {
  const api = await testApi(t);
  const first = await post(api, 'bob', migration);
  t.equal(first.statusCode, 201);
  const events = await api.eventCount();
  api.clock.advance(60_000);
  const again = await post(api, 'bob', { ...migration, adjustmentId: ID.toUpperCase() });
  t.equal(again.statusCode, 200);
  t.same(again.json().adjustment, first.json().adjustment, 'answered as the original, with its own time');
  t.equal(again.json().position, first.json().position);
  const conflict = await post(api, 'bob', { ...migration, amount: '12.6' });
  t.equal(conflict.statusCode, 409);
  t.equal(conflict.json().code, 'ADJUSTMENT_CONFLICT');
  const noReference = await post(api, 'bob', { adjustmentId: ID, amount: '12.5', reason: 'migration', note: 'opening balance' });
  t.equal(noReference.json().code, 'ADJUSTMENT_CONFLICT', 'a missing reference is other content');
  t.equal(await api.eventCount(), events, 'nothing written');
});

t.test('below zero: 409 INSUFFICIENT_BALANCE, checked against the balance with the active session', async (t) => {
  const api = await testApi(t);
  await api.command('alice', 'start');
  for (let i = 0; i < 6; i++) {
    api.clock.advance(300_000);
    await api.command('alice', 'heartbeat');
  }
  // 30 minutes credited in the active session: 0.125 tokens.
  const events = await api.eventCount();
  const over = await post(api, 'alice', { adjustmentId: ID, amount: '-0.12500001', reason: 'correction', note: 'too much' });
  t.equal(over.statusCode, 409);
  t.equal(over.json().code, 'INSUFFICIENT_BALANCE');
  t.equal(await api.eventCount(), events);
  const exact = await post(api, 'alice', { adjustmentId: ID, amount: '-0.125', reason: 'correction', note: 'all of it' });
  t.equal(exact.statusCode, 201);
  t.equal(exact.json().balanceUnits, '0');
  // The session goes on: the next heartbeat is recorded (the handler's cached state was dropped).
  api.clock.advance(30_000);
  const hb = await api.command('alice', 'heartbeat');
  t.equal(hb.statusCode, 200);
  t.equal(hb.json().recorded, true);
  t.equal(hb.json().session.creditedMs, 30 * 60_000 + 30_000, 'credited time untouched by the adjustment');
});

t.test('access: only admin writes (user, gateway, auditor 403); self, gateway, auditor and admin read', async (t) => {
  const api = await testApi(t);
  for (const headers of [api.as('alice'), api.asRole('gateway'), api.asRole('auditor')]) {
    const res = await post(api, 'alice', migration, headers);
    t.equal(res.statusCode, 403);
    t.equal(res.json().code, 'FORBIDDEN');
  }
  t.equal((await post(api, 'alice', migration, {})).statusCode, 401, 'no token: 401');
  t.equal(await api.eventCount(), 0, 'nothing written');
  for (const headers of [api.as('alice'), api.asRole('gateway'), api.asRole('auditor'), api.asRole('admin')]) {
    t.equal((await list(api, 'alice', '', headers)).statusCode, 200);
  }
  t.equal((await list(api, 'alice', '', api.as('bob'))).statusCode, 403, 'another account may not read');
  t.equal((await list(api, 'alice', '', {})).statusCode, 401);
  t.equal((await post(api, 'not%20valid', migration)).json().code, 'INVALID_ACCOUNT_ID');
});

t.test('bad input: 400 VALIDATION_FAILED, nothing written', async (t) => {
  const api = await testApi(t);
  await oneHour(api);
  const events = await api.eventCount();
  const base = { adjustmentId: ID, amount: '-0.01', reason: 'correction', note: 'n' };
  const cases: [string, unknown][] = [
    ['amount "0"', { ...base, amount: '0' }],
    ['amount "-0"', { ...base, amount: '-0' }],
    ['amount "0.00000000"', { ...base, amount: '0.00000000' }],
    ['amount "1e3"', { ...base, amount: '1e3' }],
    ['amount "0.000000001"', { ...base, amount: '0.000000001' }],
    ['amount with 9 fraction digits', { ...base, amount: '1.123456789' }],
    ['amount too large', { ...base, amount: '92233720368.54775808' }],
    ['amount far too large', { ...base, amount: '9'.repeat(39) }],
    ['amount a number', { ...base, amount: -1 }],
    ['amount "+1"', { ...base, amount: '+1' }],
    ['amount " 1"', { ...base, amount: ' 1' }],
    ['amount missing', { adjustmentId: ID, reason: 'correction', note: 'n' }],
    ['missing note', { adjustmentId: ID, amount: '1', reason: 'correction' }],
    ['empty note', { ...base, note: '' }],
    ['blank note', { ...base, note: '   ' }],
    ['note > 500', { ...base, note: 'x'.repeat(501) }],
    ['note a number', { ...base, note: 5 }],
    ['unknown reason', { ...base, reason: 'bonus' }],
    ['missing reason', { adjustmentId: ID, amount: '1', note: 'n' }],
    ['non-UUID id', { ...base, adjustmentId: 'not-a-uuid' }],
    ['missing id', { amount: '1', reason: 'correction', note: 'n' }],
    ['empty reference', { ...base, reference: '' }],
    ['reference > 200', { ...base, reference: 'r'.repeat(201) }],
    ['unknown field', { ...base, extra: true }],
    ['an array', [base]],
    ['malformed JSON', '{"adjustmentId": '],
  ];
  for (const [name, body] of cases) {
    const res = await post(api, 'alice', body);
    t.equal(res.statusCode, 400, `${name}: 400`);
    t.equal(res.json().code, 'VALIDATION_FAILED', `${name}: VALIDATION_FAILED`);
  }
  const query = await api.inject({ method: 'POST', url: '/v1/accounts/alice/adjustments?x=1', headers: api.asRole('admin'), payload: base });
  t.equal(query.statusCode, 400, 'an unknown query parameter');
  t.equal((await list(api, 'alice', '?limit=0')).statusCode, 400);
  t.equal((await list(api, 'alice', '?cursor=bogus')).statusCode, 400);
  t.equal((await list(api, 'alice', '?minPosition=999999')).statusCode, 400);
  t.equal(await api.eventCount(), events, 'nothing written');
  const ok = await post(api, 'alice', { ...base, amount: '12.00000001', reason: 'goodwill', note: 'x'.repeat(500), reference: 'r'.repeat(200) });
  t.equal(ok.statusCode, 201, 'the limits themselves are accepted');
  t.equal(ok.json().adjustment.amountUnits, '1200000001');
});

t.test('GET …/adjustments: newest first, paginated', async (t) => {
  const api = await testApi(t);
  let position = '0';
  const ids = [ID, ID2, '0190f0e0-0000-7000-8000-00000000a003'];
  for (const [i, id] of ids.entries()) {
    api.clock.advance(1000);
    position = (await post(api, 'carol', { adjustmentId: id, amount: `${i + 1}`, reason: 'goodwill', note: `n${i}` })).json().position;
  }
  const first = (await list(api, 'carol', `?limit=2&minPosition=${position}`)).json();
  t.same(first.adjustments.map((a: { adjustmentId: string }) => a.adjustmentId), [ids[2], ids[1]]);
  const second = (await list(api, 'carol', `?limit=2&cursor=${first.nextCursor}`)).json();
  t.same(second.adjustments.map((a: { adjustmentId: string }) => a.adjustmentId), [ids[0]]);
  t.equal(second.nextCursor, null);
  const account = (await api.inject({ method: 'GET', url: '/v1/accounts/carol', headers: api.as('carol') })).json();
  t.equal(account.balance, '6.00000000');
});

t.test('OpenAPI documents both routes', async (t) => {
  const api = await testApi(t);
  const doc = (await api.inject({ method: 'GET', url: '/openapi.json' })).json();
  const path = doc.paths['/v1/accounts/{accountId}/adjustments'];
  t.ok(path?.post, 'POST documented');
  t.ok(path?.get, 'GET documented');
  t.same(path.post.requestBody.content['application/json'].schema.required.sort(), ['adjustmentId', 'amount', 'note', 'reason']);
  t.ok(path.post.responses['201'] && path.post.responses['200']);
});
