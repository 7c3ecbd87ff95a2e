import t from 'tap';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { decode } from '../../src/commands/codec.js';
import { user, world } from './helpers.js';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

t.test('sweeper --shard with a bad value is a usage error (exit 2) that says why', async (t) => {
  for (const bad of ['2/2', 'x', '1/0']) {
    const stderr = capture();
    const code = await runCli(['sweeper', '--shard', bad], { env: { LOG_LEVEL: 'silent' }, stdout: capture().stream, stderr: stderr.stream });
    t.equal(code, 2, bad);
    t.match(stderr.text(), /--shard: shard/);
  }
});

t.test('`sweeper` alone stops an overdue session at its deadline, then exits 0 on SIGTERM', async (t) => {
  const w = await world(t);
  // A session whose heartbeats stopped an hour ago by the real clock.
  const startedAt = Date.now() - 3_600_000;
  w.clock.set(startedAt);
  await w.api.execute('offline', { type: 'start' }, user());
  await w.api.execute('other', { type: 'start' }, user());
  // SIGTERM arrives once the sweeper's stop is in the store.
  let stopSeen!: () => void;
  const stopSignal = new Promise<string>((resolve) => (stopSeen = () => resolve('SIGTERM')));
  const watcher = w.store.subscribeToAll({ from: 'start' }, {
    onEvents(events) {
      if (events.some((e) => decode(e).event.type === 'MiningStopped')) stopSeen();
    },
  });
  t.teardown(() => watcher.stop());
  const env = { EVENT_STORE_URL: `sqlite:${join(w.dir, 'events.db')}`, DATA_DIR: w.dir, LOG_LEVEL: 'silent', SWEEP_INTERVAL_MS: '50' };
  const code = await runCli(['sweeper', '--shard', '0/1'], { env, stopSignal, stdout: capture().stream, stderr: capture().stream });
  t.equal(code, 0);
  for (const account of ['offline', 'other']) {
    const stops = await w.stops(account);
    t.equal(stops.length, 1, `${account}: one stop`);
    t.equal(stops[0]!.at, startedAt + w.settings.heartbeatTimeoutMs, `${account}: at its deadline`);
    t.equal(stops[0]!.actor.startsWith('sweeper:sweeper-'), true);
    t.ok(stops[0]!.recordedAt >= startedAt + 3_600_000, 'recorded by the real clock, when the sweeper ran');
  }
});
