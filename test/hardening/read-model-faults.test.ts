// SPEC §15 "Read model vs store": a read model deleted under a running `serve` is recreated and
// rebuilt (it used to spin at 100 % CPU, answer nothing and ignore SIGTERM).
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bearer, cli, request, serve, terminate, until } from './helpers.js';

// Real serve processes, restarted several times (seconds each on a busy machine).
t.setTimeout(600_000);

t.test('read.db deleted while serve runs: recreated, rebuilt, requests answered, SIGTERM honoured', async (t) => {
  const dir = t.testdir();
  const server = await serve(t, { DATA_DIR: dir });
  const alice = bearer({ sub: 'alice' });
  const post = (command: string) => request(`${server.base}/v1/accounts/alice/mining/${command}`, { method: 'POST', headers: alice });
  t.equal((await post('start')).status, 201);
  const beat = await post('heartbeat');
  t.equal(beat.status, 200);
  const { position } = (await beat.json()) as { position: string };
  t.equal((await request(`${server.base}/v1/accounts/alice?minPosition=${position}`, { headers: alice })).status, 200);

  rmSync(join(dir, 'read.db'));
  const after = await post('heartbeat');
  t.equal(after.status, 200, 'a command after the deletion is answered');
  const { position: latest } = (await after.json()) as { position: string };
  await until('read.db recreated', () => (existsSync(join(dir, 'read.db')) ? true : undefined));
  const account = await until('the rebuilt read model to reach the last write', async () => {
    const res = await request(`${server.base}/v1/accounts/alice?minPosition=${latest}`, { headers: alice });
    return res.status === 200 ? ((await res.json()) as { position: string; mining: boolean }) : undefined;
  });
  t.equal(account.position, latest, 'the recreated read model holds every event');
  t.equal(account.mining, true);
  t.equal((await request(`${server.base}/healthz`)).status, 200);

  const stopped = await terminate(server);
  t.equal(stopped.killed, false, `SIGTERM honoured (${stopped.ms} ms)`);
  t.equal(stopped.code, 0);
  t.match(server.stdout() + server.stderr(), /read model file was deleted/, "the deletion is logged");
});

t.test('a store restored behind its read model: not ready, reads 503, nothing projected on top; rebuild --swap heals it', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir };
  const alice = bearer({ sub: 'alice' });
  const bob = bearer({ sub: 'bob' });
  const store = join(dir, 'events.db');

  let server = await serve(t, env);
  t.equal((await request(`${server.base}/v1/accounts/alice/mining/start`, { method: 'POST', headers: alice })).status, 201);
  t.equal((await terminate(server)).code, 0);
  copyFileSync(store, join(dir, 'backup.db'));
  server = await serve(t, env);
  for (const command of ['heartbeat', 'heartbeat', 'stop']) {
    t.equal((await request(`${server.base}/v1/accounts/alice/mining/${command}`, { method: 'POST', headers: alice })).status, 200);
  }
  await until('projected', async () => {
    const res = await request(`${server.base}/readyz`);
    return res.status === 200 ? true : undefined;
  });
  t.equal((await terminate(server)).code, 0);

  // The operator restores the older store under the existing read model (checkpoint 4, store head 1).
  for (const suffix of ['', '-wal', '-shm']) rmSync(store + suffix, { force: true });
  copyFileSync(join(dir, 'backup.db'), store);
  server = await serve(t, env);
  const ready = await request(`${server.base}/readyz`);
  t.equal(ready.status, 503, 'not ready');
  t.match(((await ready.json()) as { message: string }).message, /past the event store's last position.*rebuild/);
  const read = await request(`${server.base}/v1/accounts/alice`, { headers: alice });
  t.equal(read.status, 503, 'a read of the read model is refused');
  t.equal(read.headers.get('retry-after'), '1');
  const started = await request(`${server.base}/v1/accounts/bob/mining/start`, { method: 'POST', headers: bob });
  t.equal(started.status, 201, 'commands still go to the store');
  const { position } = (await started.json()) as { position: string };
  t.equal(position, '2');
  t.equal((await request(`${server.base}/v1/accounts/bob?minPosition=2`, { headers: bob })).status, 503, 'no stale 200');
  t.match(server.stdout() + server.stderr(), /rebuild/, 'the log names rebuild');

  const rebuilt = cli(t, ['rebuild', '--swap'], env);
  t.equal((await rebuilt.exited).code, 0, rebuilt.stderr());
  const account = await until('the swapped read model to be served', async () => {
    const res = await request(`${server.base}/v1/accounts/bob?minPosition=2`, { headers: bob });
    return res.status === 200 ? ((await res.json()) as { mining: boolean; position: string }) : undefined;
  });
  t.same([account.mining, account.position], [true, '2'], 'bob is projected from the store as it is');
  const aliceNow = (await (await request(`${server.base}/v1/accounts/alice`, { headers: alice })).json()) as { mining: boolean; position: string };
  t.same([aliceNow.mining, aliceNow.position], [true, '1'], 'alice reads as the restored store says');
  t.equal((await request(`${server.base}/readyz`)).status, 200);
  t.equal((await terminate(server)).code, 0);
});
