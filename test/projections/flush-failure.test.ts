// A commit of the read model that fails (another connection holds the file's lock past the busy
// timeout) throws away what was applied since the checkpoint. Nothing after it may be applied on
// top: the projector halts until its retry has re-read the checkpoint, or those events are lost.
import t from 'tap';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { replayStream } from '../../src/projections/ledger/ledger.js';
import { startProjector } from '../../src/projections/projector/projector.js';
import { MINUTE, world } from './helpers.js';

const NOTHING = { sessionStarted() {}, interval() {}, sessionEnded() {} };

async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 20_000) throw new Error('condition never became true');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

t.test('events that arrive while a failed commit waits for its retry are not lost', async (t) => {
  const w = await world(t);
  const errors: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { errors.push(String(chunk)); done(); } });
  const projector = await startProjector({
    store: w.store, readModelPath: w.readModelPath, flushIntervalMs: 5, busyTimeoutMs: 50, retryDelayMs: 300,
    logger: pino({ level: 'error' }, sink),
  });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  const started = await w.run('alice', { type: 'start' });
  t.ok(await projector.readModel.waitForPosition(started, 5000));

  const lock = new Database(w.readModelPath);
  lock.exec('BEGIN EXCLUSIVE');
  w.clock.advance(MINUTE);
  await w.run('alice', { type: 'stop' });
  await until(() => errors.some((line) => line.includes('projector failed')));
  // The lock goes before the retry is due: a projector that kept applying would now commit the
  // next event on top of a state that lacks the stop, and its checkpoint would pass the stop.
  lock.exec('COMMIT');
  lock.close();
  w.clock.advance(MINUTE);
  const restarted = await w.run('alice', { type: 'start' });

  t.ok(await projector.readModel.waitForPosition(restarted, 10_000), 'the projector recovers');
  const replayed = await replayStream(w.store, 'alice', NOTHING);
  const view = projector.readModel.account('alice')!;
  t.equal(replayed.balanceUnits, 416_666n, 'one minute credited by the stop');
  t.equal(view.balanceUnits, replayed.balanceUnits, 'the projection kept the stop that came during the failure');
  t.equal(view.creditedMs, 60_000);
  t.equal(projector.readModel.sessions('alice', { limit: 10 }).sessions.length, 2);
});
