// `project` runs the projector alone until SIGTERM/SIGINT, then commits and exits 0.
import t from 'tap';
import Database from 'better-sqlite3';
import { runCli } from '../../src/cli/main.js';
import { exited, spawnTs } from './fixtures/spawn.js';
import { capture, dumpReadModel, mine, world } from './helpers.js';

function checkpointOf(path: string): bigint {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
    db.defaultSafeIntegers(true);
    try {
      return (db.prepare('SELECT position FROM checkpoint').get() as { position: bigint }).position;
    } finally {
      db.close();
    }
  } catch {
    return -1n;
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

t.test('project follows the store and stops cleanly when asked', async (t) => {
  const w = await world(t);
  const head = await mine(w, 'alice', 2, 'stop');
  let stop!: (signal: string) => void;
  const stopSignal = new Promise<string>((resolve) => (stop = resolve));
  const stdout = capture();
  const stderr = capture();
  const env = { EVENT_STORE_URL: w.eventStoreUrl, READ_MODEL_PATH: w.readModelPath, LOG_LEVEL: 'silent' };
  const running = runCli(['project'], { env, stdout: stdout.stream, stderr: stderr.stream, stopSignal });
  await until(() => checkpointOf(w.readModelPath) === head);
  const more = await mine(w, 'bob', 1, 'open');
  await until(() => checkpointOf(w.readModelPath) === more);
  stop('SIGTERM');
  t.equal(await running, 0, stderr.text());
  t.equal(dumpReadModel(w.readModelPath).accounts.length, 2);
});

t.test('the real process exits 0 on SIGTERM with everything committed', async (t) => {
  const w = await world(t);
  const head = await mine(w, 'alice', 3, 'offline');
  const child = spawnTs('./cli.ts', ['project'], { EVENT_STORE_URL: w.eventStoreUrl, READ_MODEL_PATH: w.readModelPath });
  const done = exited(child);
  await until(() => checkpointOf(w.readModelPath) === head || child.exitCode !== null);
  child.kill('SIGTERM');
  const result = await done;
  t.equal(result.code, 0, result.stderr);
  t.equal(checkpointOf(w.readModelPath), head);
});

t.test('project with a bad configuration exits 2 naming the variable', async (t) => {
  const stderr = capture();
  const code = await runCli(['project'], { env: { EVENT_STORE_URL: 'mysql://nope' }, stdout: capture().stream, stderr: stderr.stream });
  t.equal(code, 2);
  t.match(stderr.text(), /EVENT_STORE_URL/);
});
