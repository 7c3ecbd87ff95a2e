// Restarts: a crashed sweeper loses only its in-memory index; the next one rebuilds it from the
// store and stops what is left, each session once, at its own deadline.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import type { CommandHandler } from '../../src/commands/handler.js';
import type { EventStore } from '../../src/store/port.js';
import type { MiningRecord } from '../../src/commands/codec.js';
import { startSweeper } from '../../src/sweeper/sweeper.js';
import { START, T, user, world } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));

t.test('kill -9 in the middle of a sweep: after a restart every session has exactly one stop, at its deadline', async (t) => {
  const w = await world(t);
  const accounts = Array.from({ length: 300 }, (_, i) => `acct-${i}`);
  for (let batch = 0; batch < 6; batch++) {
    w.clock.set(START + batch * 1000);
    await Promise.all(accounts.slice(batch * 50, batch * 50 + 50).map((a) => w.api.execute(a, { type: 'start' }, user())));
  }
  const now = START + 3_600_000;
  // The child runs with this test's TypeScript loader.
  const loader = process.execArgv.filter((arg) => arg.includes('typescript') || arg === '--enable-source-maps');
  const child = spawn(process.execPath, [...loader, fixture, join(w.dir, 'events.db'), String(now), '40'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line === 'HALT') break;
    t.not(line, 'FINISHED', 'the pass must not finish before the kill');
  }
  child.kill('SIGKILL');
  const [, signal] = await exited;
  t.equal(signal, 'SIGKILL');

  const before = await Promise.all(accounts.map((a) => w.stops(a)));
  const leftBehind = before.filter((s) => s.length === 1).length;
  t.ok(leftBehind >= 40 && leftBehind < 300, `the killed sweeper wrote ${leftBehind} stops`);
  t.ok(before.every((s) => s.length <= 1));

  w.clock.set(now + 5000);
  const sweeper = await w.sweeper();
  t.same(sweeper.stats(), { activeSessions: 300 - leftBehind, overdue: 300 - leftBehind, stops: 0 });
  t.equal(await sweeper.sweepOnce(), 300 - leftBehind);
  for (const [i, account] of accounts.entries()) {
    const stops = await w.stops(account);
    const deadline = START + Math.floor(i / 50) * 1000 + T;
    t.same(stops.map((s) => [s.at, s.reason]), [[deadline, 'timeout']], `${account}: one stop at its deadline`);
    t.equal(stops[0]!.actor, before[i]!.length === 1 ? 'sweeper:doomed' : 'sweeper:sweeper-test');
  }
});

t.test('an expire that fails leaves its session indexed: the next pass stops it', async (t) => {
  const w = await world(t);
  await Promise.all(['a', 'b', 'c'].map((a) => w.api.execute(a, { type: 'start' }, user())));
  const inner = w.handlerFor();
  let failing = true;
  const flaky: CommandHandler = {
    forget: (accountId) => inner.forget(accountId),
    async execute(accountId, request, context) {
      if (failing && accountId === 'b') throw new Error('store unavailable');
      return inner.execute(accountId, request, context);
    },
  };
  const sweeper = await w.sweeper({ handler: flaky });
  w.clock.set(START + T + 1);
  t.equal(await sweeper.sweepOnce(), 2);
  t.same(sweeper.stats(), { activeSessions: 1, overdue: 1, stops: 2 });
  failing = false;
  w.clock.set(START + T + 1001);
  t.equal(await sweeper.sweepOnce(), 1);
  t.same((await w.stops('b')).map((s) => [s.at, s.recordedAt]), [[START + T, START + T + 1001]]);
});

t.test('SIGTERM during a long catch-up: stop() does not wait for the backlog, and a waiting pass writes nothing', async (t) => {
  const w = await world(t);
  await w.api.execute('a', { type: 'start' }, user());
  // A store whose backlog never ends: the subscription delivers nothing and never catches up.
  const endless = Object.create(w.store) as EventStore<MiningRecord>;
  let unsubscribed = false;
  endless.subscribeToAll = () => ({
    done: new Promise<void>(() => undefined),
    async stop() {
      unsubscribed = true;
    },
  });
  const sweeper = await startSweeper({ store: endless, handler: w.api, clock: w.clock, intervalMs: 10, graceMs: 0, registry: new Registry() });
  w.clock.set(START + T + 1);
  const waiting = sweeper.sweepOnce();
  await sweeper.stop();
  t.equal(await waiting, 0);
  t.equal(unsubscribed, true);
  t.same(await w.stops('a'), []);
});
