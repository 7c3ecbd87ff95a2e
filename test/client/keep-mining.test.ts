// keepMining (SPEC §13) on a virtual clock against the real API: cadence from the server, backoff only
// while the session can be alive, Retry-After, pause/continue when hidden, pagehide, ends that never
// restart by themselves, and controller.stop(). Assertions read the account's stream.
import t from 'tap';
import type { EndReason } from '../../src/client/index.js';
import { MiningApiError } from '../../src/client/index.js';
import { harness, type Harness } from './harness.js';

// Two shared APIs start here (seconds each on a busy machine); the tests themselves take milliseconds.
t.setTimeout(300_000);

const T = 60_000;
const INTERVAL = 20_000;
const options = { mining: { heartbeatTimeoutMs: T }, settings: { heartbeatIntervalMs: INTERVAL } };

function recorder() {
  const updates: Array<{ kind: string; t: number }> = [];
  const ends: Array<{ reason: EndReason; code?: string; sessionId?: string }> = [];
  return {
    updates,
    ends,
    handlers: (h: Harness) => ({
      onUpdate: (_s: unknown, kind: string) => void updates.push({ kind, t: h.elapsed() }),
      onEnded: (reason: EndReason, d: { session: { sessionId: string } | null; error?: MiningApiError }) =>
        void ends.push({ reason, ...(d.error ? { code: d.error.code } : {}), ...(d.session ? { sessionId: d.session.sessionId } : {}) }),
    }),
  };
}

const types = async (h: Harness) => (await h.events()).map((e) => `${e.type}@${e.t}`);
const heartbeatCalls = (h: Harness) => h.calls.filter((c) => c.path.endsWith('/heartbeat')).map((c) => c.at);

t.test('starts and heartbeats at the cadence the server advertises (not a hard-coded 30 s)', async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  const controller = h.client().keepMining(r.handlers(h));
  await h.timers.advance(65_000);
  t.same(await types(h), ['MiningStarted@0', 'Heartbeat@20000', 'Heartbeat@40000', 'Heartbeat@60000']);
  t.same(r.updates.map((u) => u.kind), ['started', 'heartbeat', 'heartbeat', 'heartbeat']);
  t.equal(controller.state, 'mining');
  const sessionIds = new Set(h.calls.filter((c) => c.init.body).map((c) => JSON.parse(c.init.body!).sessionId));
  t.same([...sessionIds], [controller.session!.sessionId], 'every heartbeat names the session it keeps');
  t.equal(controller.session!.heartbeatIntervalMs, INTERVAL);
});

t.test('an active session is resumed: reported as resumed and heartbeated at once', async (t) => {
  const h = await harness(t, options);
  t.equal((await h.api.command(h.account, 'start')).statusCode, 201);
  await h.api.clock.advance(30_000);
  const r = recorder();
  const controller = h.client().keepMining(r.handlers(h));
  await h.timers.advance(1);
  t.same(await types(h), ['MiningStarted@0', 'Heartbeat@30000']);
  t.same(r.updates.map((u) => u.kind), ['resumed', 'heartbeat']);
  t.equal((await h.events())[1]!.data.sessionId, controller.session!.sessionId, 'the same session');
});

t.test('network failures are retried with backoff while the session can be alive', async (t) => {
  const h = await harness(t, options);
  h.client().keepMining();
  await h.timers.advance(1);
  h.faults.push('network', 'network');
  await h.timers.advance(30_000);
  t.same(heartbeatCalls(h), [20_000, 21_000, 23_000], 'retries after 1 s, then 2 s');
  t.same(await types(h), ['MiningStarted@0', 'Heartbeat@23000']);
});

t.test('no heartbeat is retried past the deadline: the session ends as timeout and nothing is credited for the outage', async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  const controller = h.client().keepMining(r.handlers(h));
  await h.timers.advance(1);
  h.faults.push(...Array.from({ length: 50 }, () => 'network' as const));
  await h.timers.advance(300_000);
  const attempts = heartbeatCalls(h);
  t.ok(attempts.length >= 4, `retried (${attempts.join(', ')})`);
  t.ok(attempts.every((at) => at <= T), 'every attempt before the deadline (start + T)');
  t.same(r.ends, [{ reason: 'timeout', code: 'NETWORK_ERROR', sessionId: controller.session!.sessionId }]);
  t.equal(controller.state, 'ended');
  t.equal(h.timers.pending(), 0, 'nothing scheduled after the end');
  t.same(await types(h), ['MiningStarted@0']);
});

t.test('429 and 503 wait exactly Retry-After', async (t) => {
  const h = await harness(t, options);
  h.client().keepMining();
  await h.timers.advance(1);
  h.faults.push(
    { status: 503, body: { statusCode: 503, code: 'UNAVAILABLE', error: 'Service Unavailable', message: 'busy' }, headers: { 'Retry-After': '3' } },
    { status: 429, body: { statusCode: 429, code: 'RATE_LIMITED', error: 'Too Many Requests', message: 'slow down' }, headers: { 'Retry-After': '5' } },
  );
  await h.timers.advance(30_000);
  t.same(heartbeatCalls(h), [20_000, 23_000, 28_000]);
  t.same(await types(h), ['MiningStarted@0', 'Heartbeat@28000']);
});

t.test('a Retry-After that lands past the deadline ends the session instead of waiting it out', async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  h.client().keepMining(r.handlers(h));
  await h.timers.advance(1);
  h.faults.push({ status: 503, body: { code: 'UNAVAILABLE', message: 'down' }, headers: { 'retry-after': '120' } });
  await h.timers.advance(200_000);
  t.same(heartbeatCalls(h), [20_000]);
  t.same(r.ends.map((e) => [e.reason, e.code]), [['timeout', 'UNAVAILABLE']]);
});

t.test('a request without an answer is aborted after requestTimeoutMs and retried', async (t) => {
  const h = await harness(t, options);
  h.client({ requestTimeoutMs: 5000 }).keepMining();
  await h.timers.advance(1);
  h.faults.push('hang');
  await h.timers.advance(30_000);
  t.same(heartbeatCalls(h), [20_000, 26_000], 'aborted at 25 s, retried 1 s later');
  t.same(await types(h), ['MiningStarted@0', 'Heartbeat@26000']);
});

t.test("whenHidden 'pause': nothing is sent while hidden; back in time, the same session goes on", async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  const controller = h.client().keepMining(r.handlers(h));
  await h.timers.advance(25_000);
  h.document.set('hidden');
  t.equal(controller.state, 'paused');
  await h.timers.advance(45_000);
  t.same(heartbeatCalls(h), [20_000], 'silent while hidden');
  h.document.set('visible');
  await h.timers.advance(25_000);
  t.same(heartbeatCalls(h), [20_000, 70_000, 90_000], 'a heartbeat on return, then the cadence');
  t.same(await types(h), ['MiningStarted@0', 'Heartbeat@20000', 'Heartbeat@70000', 'Heartbeat@90000']);
  t.same(r.ends, []);
});

t.test("whenHidden 'pause': back after the deadline, the session is reported ended as timeout and not restarted", async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  const client = h.client();
  const controller = client.keepMining(r.handlers(h));
  await h.timers.advance(25_000);
  h.document.set('hidden');
  await h.timers.advance(75_000);
  h.document.set('visible');
  await h.timers.advance(60_000);
  t.same(r.ends.map((e) => e.reason), ['timeout']);
  t.same(h.calls.map((c) => c.path.split('/').pop()), ['start', 'heartbeat'], 'no request after hiding: no heartbeat, no new start');
  t.equal(h.document.listeners(), 0, 'listeners removed');
  const account = await client.account({ minPosition: String(await h.api.store.headPosition()) });
  t.equal(account.mining, false, 'the server agrees: not mining');
  t.equal(account.session?.creditedMs, 20_000, 'only the visible time is credited');
  t.equal(await controller.stop(), controller.session, 'stop() after the end sends nothing and gives the last session');
  t.equal(h.calls.length, 3);
});

t.test("whenHidden 'pause' on a page that opens hidden: the start waits for the page to show", async (t) => {
  const h = await harness(t, options);
  h.document.set('hidden');
  const controller = h.client().keepMining();
  t.equal(controller.state, 'paused');
  await h.timers.advance(10_000);
  t.equal(h.calls.length, 0);
  h.document.set('visible');
  await h.timers.advance(1);
  t.same(await types(h), ['MiningStarted@10000']);
});

t.test('a start that fails on the network is retried; hidden meanwhile, it waits for the page', async (t) => {
  const h = await harness(t, options);
  h.faults.push('network');
  const controller = h.client().keepMining();
  await h.timers.advance(0);
  t.equal(controller.state, 'retrying');
  h.document.set('hidden');
  await h.timers.advance(5_000);
  t.equal(h.calls.length, 1, 'no retry while hidden');
  h.document.set('visible');
  await h.timers.advance(1);
  t.same(await types(h), ['MiningStarted@5000']);
});

t.test("whenHidden 'continue': heartbeats go on while hidden", async (t) => {
  const h = await harness(t, options);
  h.client().keepMining({ whenHidden: 'continue' });
  await h.timers.advance(1);
  h.document.set('hidden');
  await h.timers.advance(45_000);
  t.same(heartbeatCalls(h), [20_000, 40_000]);
});

t.test('a heartbeat after the deadline (a frozen tab) gets SESSION_EXPIRED: ended as timeout, never restarted', async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  h.client().keepMining(r.handlers(h));
  await h.timers.advance(1);
  h.api.clock.advance(100_000); // the device slept: its timer fires late
  await h.timers.advance(0);
  t.same(r.ends.map((e) => [e.reason, e.code]), [['timeout', 'SESSION_EXPIRED']]);
  await h.timers.advance(120_000);
  t.same(await types(h), ['MiningStarted@0', 'MiningStopped@60000'], 'the server stopped it at its deadline; no new start');
  t.equal((await h.events())[1]!.data.reason, 'timeout');
});

t.test('SESSION_EXPIRED at the maximum length is reported as max_duration', async (t) => {
  const h = await harness(t, { ...options, mining: { heartbeatTimeoutMs: T, maxSessionMs: 50_000 } });
  const r = recorder();
  h.client().keepMining(r.handlers(h));
  await h.timers.advance(70_000);
  t.same(r.ends.map((e) => [e.reason, e.code]), [['max_duration', 'SESSION_EXPIRED']]);
  t.same(await types(h), ['MiningStarted@0', 'Heartbeat@20000', 'Heartbeat@40000', 'MiningStopped@50000']);
});

t.test('NOT_MINING (stopped elsewhere) and SESSION_MISMATCH (restarted elsewhere) end it without a restart', async (t) => {
  for (const [elsewhere, reason] of [[['stop'], 'not_mining'], [['stop', 'start'], 'session_mismatch']] as const) {
    const h = await harness(t, options);
    const r = recorder();
    h.client().keepMining(r.handlers(h));
    await h.timers.advance(1);
    for (const command of elsewhere) await h.api.command(h.account, command);
    await h.timers.advance(100_000);
    t.same(r.ends.map((e) => e.reason), [reason], reason);
    t.equal(h.calls.filter((c) => c.path.endsWith('/start')).length, 1, `${reason}: no start of its own`);
  }
});

t.test('an answer retrying cannot fix (403) ends it with error', async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  h.client().keepMining({ ...r.handlers(h), accountId: 'bob' });
  await h.timers.advance(100_000);
  t.same(r.ends.map((e) => [e.reason, e.code]), [['error', 'FORBIDDEN']]);
  t.equal(h.calls.length, 1);
});

t.test('controller.stop() stops and resolves with the final session; a second call is the same stop', async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  const controller = h.client().keepMining(r.handlers(h));
  await h.timers.advance(30_000);
  const first = controller.stop();
  t.equal(controller.stop(), first);
  const session = await first;
  t.equal(session?.reason, 'user');
  t.equal(session?.stoppedAt, new Date(h.api.clock.now()).toISOString());
  t.equal(session?.creditedMs, 30_000);
  t.same(r.ends.map((e) => e.reason), ['user']);
  await h.timers.advance(60_000);
  t.same(await types(h), ['MiningStarted@0', 'Heartbeat@20000', 'MiningStopped@30000']);
  t.equal(h.timers.pending(), 0);
});

t.test('controller.stop() while the start is in flight waits for it, then stops that session', async (t) => {
  const h = await harness(t, options);
  const controller = h.client().keepMining();
  const session = await controller.stop();
  t.equal(session?.reason, 'user');
  t.same((await types(h)).map((e) => e.split('@')[0]), ['MiningStarted', 'MiningStopped']);
});

t.test('controller.stop(): NOT_MINING resolves with the last session; a network failure rejects and reports error', async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  const controller = h.client().keepMining(r.handlers(h));
  await h.timers.advance(1);
  await h.api.command(h.account, 'stop');
  const last = await controller.stop();
  t.equal(last?.sessionId, controller.session?.sessionId);
  t.same(r.ends.map((e) => e.reason), ['user']);

  const h2 = await harness(t, options);
  const r2 = recorder();
  const c2 = h2.client().keepMining(r2.handlers(h2));
  await h2.timers.advance(1);
  h2.faults.push('network');
  await t.rejects(c2.stop(), { name: 'MiningApiError', code: 'NETWORK_ERROR', status: 0 });
  t.same(r2.ends.map((e) => [e.reason, e.code]), [['error', 'NETWORK_ERROR']]);
});

t.test('pagehide sends a keepalive stop that records a user stop; stopOnPageHide: false sends nothing', async (t) => {
  const h = await harness(t, options);
  const r = recorder();
  const controller = h.client().keepMining(r.handlers(h));
  await h.timers.advance(25_000);
  h.page.hide();
  await h.settle();
  const stop = h.calls.at(-1)!;
  t.equal(stop.path, `/v1/accounts/${h.account}/mining/stop`);
  t.equal(stop.init.keepalive, true);
  t.same(r.ends.map((e) => e.reason), ['user']);
  const events = await h.events();
  t.same(events.map((e) => `${e.type}@${e.t}`), ['MiningStarted@0', 'Heartbeat@20000', 'MiningStopped@25000']);
  t.equal(events[2]!.data.reason, 'user');
  t.equal(controller.state, 'ended');

  const h2 = await harness(t, options);
  h2.client().keepMining({ stopOnPageHide: false });
  await h2.timers.advance(1);
  h2.page.hide();
  await h2.settle();
  t.equal(h2.calls.length, 1);
});

t.test('whenHidden must be pause or continue', async (t) => {
  const h = await harness(t, options);
  t.throws(() => h.client().keepMining({ whenHidden: 'sometimes' as 'pause' }), TypeError);
});
