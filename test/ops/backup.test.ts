// `backup <file>` while another process writes: the copy opens, holds every event acknowledged
// before the backup began, and replay, verify and serve work on it.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { exited, spawnTs } from '../projections/fixtures/spawn.js';
import { cli, freePort, serve, until } from './helpers.js';

function spawnWriter(path: string) {
  const child = spawnTs('../../ops/fixtures/writer-child.ts', [path, '8']);
  const acked: bigint[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line.startsWith('ack ')) acked.push(BigInt(line.slice(4)));
  });
  const done = exited(child);
  return { child, acked, done };
}

t.test('an online backup under a live writer holds every acknowledged event, and replay, verify and serve work on it', async (t) => {
  const dir = t.testdir();
  const data = join(dir, 'data');
  mkdirSync(data);
  const env = { DATA_DIR: data, LOG_LEVEL: 'silent' };
  const writer = spawnWriter(join(data, 'events.db'));
  t.teardown(() => void writer.child.kill('SIGKILL'));
  await until(() => writer.acked.length >= 1000, 'the writer to acknowledge 1000 events', 2400);

  // Everything acknowledged up to here must be in the copy; the writer keeps going meanwhile.
  const acknowledged = [...writer.acked];
  const before = acknowledged.reduce((a, b) => (b > a ? b : a), 0n);
  const copy = join(dir, 'copy', 'events.db');
  mkdirSync(join(dir, 'copy'));
  const run = await cli(['backup', copy], env);
  const during = writer.acked.length;
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, new RegExp(`^backup: ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\nposition: \\d+\\nevents: \\d+\\nbytes: \\d+\\nms: \\d+\\n$`));
  await until(() => writer.acked.length > during + 50, 'the writer to keep writing after the backup');
  writer.child.kill('SIGTERM');
  t.equal((await writer.done).code, 0, 'the writer was never refused');

  t.equal(statSync(copy).mode & 0o777, 0o600, 'the copy is 0600');
  t.same(readdirSync(join(dir, 'copy')), ['events.db'], 'no partial file left behind');
  const db = new Database(copy, { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  const positions = new Set(db.prepare<[], { position: bigint }>('SELECT position FROM events').all().map((r) => r.position));
  const head = db.prepare<[], { p: bigint }>('SELECT max(position) AS p FROM events').get()!.p;
  db.close();
  t.ok(head >= before, `the copy reaches position ${head} >= ${before}, the last acknowledged before the backup`);
  t.match(run.stdout, new RegExp(`position: ${head}\\n`));
  t.equal(acknowledged.filter((p) => !positions.has(p)).length, 0, `all ${acknowledged.length} acknowledged events are in the copy`);
  for (let p = 1n; p <= head; p++) if (!positions.has(p)) t.fail(`position ${p} missing: the copy is not one snapshot`);

  const onCopy = { DATA_DIR: join(dir, 'copy'), LOG_LEVEL: 'silent' };
  const verify = await cli(['verify'], onCopy);
  t.equal(verify.code, 0, verify.stderr);
  t.match(verify.stdout, /mismatches: 0/);
  const replay = await cli(['replay', 'writer-3', '--json'], onCopy);
  t.equal(replay.code, 0, replay.stderr);
  t.match(JSON.parse(replay.stdout), { accountId: 'writer-3', matches: true, sessions: [{ reason: null }] });

  const server = await serve(['--no-sweeper'], { ...onCopy, PORT: String(await freePort()) });
  t.teardown(() => server.stop());
  const token = (await cli(['token', '--role', 'auditor'], onCopy)).stdout.trim();
  const account = await fetch(`${server.base}/v1/accounts/writer-3?minPosition=${head}`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(account.status, 200);
  t.match(await account.json(), { accountId: 'writer-3', mining: true });
});
