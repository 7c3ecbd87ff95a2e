// SPEC §15 "Read model vs store": a read model deleted under a running `serve` is recreated and
// rebuilt (it used to spin at 100 % CPU, answer nothing and ignore SIGTERM).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bearer, request, serve, terminate, until } from './helpers.js';

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
