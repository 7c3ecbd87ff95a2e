// SPEC §15 "Audit is bounded": the audit answer is streamed as it is replayed, at most
// AUDIT_CONCURRENCY run at once (a further one is 503 with Retry-After), audits count against the
// account's rate limit, and a reader that goes away frees its slot.
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import t from 'tap';
import { auditAccount, type LedgerStream } from '../../src/projections/ledger/audit.js';
import { testApi } from '../api/helpers.js';

t.test('audits beyond AUDIT_CONCURRENCY are refused with 503 and Retry-After until one finishes', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started = 0;
  const api = await testApi(t, {
    settings: { auditConcurrency: 2 },
    audit: async (accountId): Promise<LedgerStream> => ({
      async write(out) {
        started++;
        await gate;
        out.write(JSON.stringify({ accountId }));
      },
    }),
  });
  const get = () => api.inject({ method: 'GET', url: '/v1/accounts/ann/audit', headers: api.asRole('auditor') });
  const first = get();
  const second = get();
  while (started < 2) await new Promise((resolve) => setImmediate(resolve));
  const third = await get();
  t.equal(third.statusCode, 503);
  t.equal(third.json().code, 'UNAVAILABLE');
  t.equal(third.headers['retry-after'], '1');
  release();
  t.same([(await first).statusCode, (await second).statusCode], [200, 200]);
  t.same((await first).json(), { accountId: 'ann' });
  t.equal((await get()).statusCode, 200, 'a slot is free again');
});

t.test("an audit counts against the account's rate limit", async (t) => {
  const api = await testApi(t, { settings: { commandRateLimitPerMinute: 3 } });
  t.equal((await api.command('bea', 'start')).statusCode, 201);
  const audit = () => api.inject({ method: 'GET', url: '/v1/accounts/bea/audit', headers: api.as('bea') });
  t.equal((await audit()).statusCode, 200);
  t.equal((await audit()).statusCode, 200);
  const limited = await audit();
  t.equal(limited.statusCode, 429);
  t.equal(limited.json().code, 'RATE_LIMITED');
  t.ok(Number(limited.headers['retry-after']) >= 1);
  t.equal((await api.command('bea', 'heartbeat')).statusCode, 429, 'the same budget as commands');
});

t.test('the audit is streamed over a socket (chunked, no Content-Length) and equals the collected ledger', async (t) => {
  const api = await testApi(t);
  t.equal((await api.command('cas', 'start')).statusCode, 201);
  for (let i = 0; i < 1500; i++) {
    api.clock.advance(30_000);
    if (i % 500 === 499) api.clock.advance(600_000);
    await api.handler.execute('cas', { type: i % 500 === 499 ? 'start' : 'heartbeat' }, { actor: { kind: 'user', id: 'cas' }, correlationId: 't' })
      .catch(() => undefined);
  }
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = api.app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/v1/accounts/cas/audit`, { headers: api.asRole('auditor') });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-length'), null);
  t.equal(res.headers.get('transfer-encoding'), 'chunked');
  t.match(res.headers.get('content-type'), /application\/json/);
  const streamed = (await res.json()) as { events: number; sessions: unknown[]; matches: boolean };
  const collected = await auditAccount({ store: api.store, readModel: api.projector.readModel, accountId: 'cas' });
  t.same(streamed, JSON.parse(JSON.stringify(collected)));
  t.ok(streamed.events > 1500 && streamed.matches, `${streamed.events} events, ${streamed.sessions.length} sessions`);
});

t.test('a reader that goes away mid-audit frees its slot', async (t) => {
  const api = await testApi(t, { settings: { auditConcurrency: 1 } });
  t.equal((await api.command('dee', 'start')).statusCode, 201);
  for (let i = 0; i < 8000; i++) {
    api.clock.advance(30_000);
    await api.handler.execute('dee', { type: 'heartbeat' }, { actor: { kind: 'user', id: 'dee' }, correlationId: 't' });
  }
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = api.app.server.address() as { port: number };
  const req = httpRequest({ port, host: '127.0.0.1', path: '/v1/accounts/dee/audit', headers: api.asRole('auditor') });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  t.equal(res.statusCode, 200);
  await once(res, 'data');
  // Read nothing more and hang up: the server's buffer fills, then the socket closes.
  res.pause();
  req.destroy();
  const deadline = Date.now() + 20_000;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await api.inject({ method: 'GET', url: '/v1/accounts/nobody/audit', headers: api.asRole('auditor') })).statusCode;
    if (status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.equal(status, 200, 'the abandoned audit released its slot');
});
