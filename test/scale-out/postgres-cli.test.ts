// Every command as a process against a PostgreSQL store (TEST_PG_URL): serve writes, the sweeper
// inside it stops a silent session, then replay, verify, rebuild and project run on the same store.
import { join } from 'node:path';
import t from 'tap';
import { freshSchemaUrl, openPostgresStore, PG_SKIP, pgUrl } from '../store/postgres-helpers.js';
import { JWT_SECRET, mintToken, runCliProcess, startCli, startNode, stop } from './helpers.js';

if (!pgUrl) {
  t.comment(`PostgreSQL command-line suite SKIPPED: ${PG_SKIP}`);
  t.skip(`serve, replay, verify, rebuild and project against PostgreSQL (${PG_SKIP})`, () => {});
} else {
  // Seven processes start one after another; on a busy 2-core machine each takes seconds.
  t.setTimeout(300_000);
  t.test('serve, replay, verify, rebuild and project as processes on one PostgreSQL store', async (t) => {
    const dir = t.testdir();
    const env = {
      EVENT_STORE_URL: freshSchemaUrl(t), DATA_DIR: dir, JWT_SECRET,
      HEARTBEAT_INTERVAL_MS: '200', HEARTBEAT_TIMEOUT_MS: '1000', SWEEP_INTERVAL_MS: '100', SWEEP_GRACE_MS: '100',
    };
    const node = await startNode('serve', [], env);
    t.teardown(() => stop(node.proc));
    const auth = { authorization: `Bearer ${await mintToken(['--role', 'gateway'], env)}` };
    const post = async (account: string, command: string) => {
      const response = await fetch(`${node.base}/v1/accounts/${account}/mining/${command}`, { method: 'POST', headers: auth });
      return { status: response.status, body: (await response.json()) as { position: string } };
    };
    t.equal((await post('alice', 'start')).status, 201);
    t.equal((await post('bob', 'start')).status, 201);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      t.equal((await post('alice', 'heartbeat')).status, 200);
    }
    const stopped = await post('alice', 'stop');
    t.equal(stopped.status, 200);

    // bob went silent: the sweeper in serve records his timeout stop soon after deadline + grace.
    const store = await openPostgresStore(env.EVENT_STORE_URL);
    t.teardown(() => store.close());
    const bobStops = async () => {
      const types: string[] = [];
      for await (const event of store.readStream('mining-bob')) types.push(event.type);
      return types;
    };
    for (let waited = 0; !(await bobStops()).includes('MiningStopped'); waited += 100) {
      if (waited > 20_000) throw new Error('the sweeper did not stop bob');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.same(await bobStops(), ['MiningStarted', 'MiningStopped'], "bob's session stopped once, by the sweeper");
    const account = await fetch(`${node.base}/v1/accounts/alice?minPosition=${stopped.body.position}`, { headers: auth });
    const alice = (await account.json()) as { balanceUnits: string; creditedMs: number };
    t.ok(alice.creditedMs > 0, 'alice was credited');
    t.equal((await stop(node.proc)).code, 0, 'serve stops cleanly on SIGTERM');

    const [replay, verify] = await Promise.all([runCliProcess(['replay', 'alice', '--json'], env), runCliProcess(['verify'], env)]);
    t.equal(replay.code, 0, replay.stderr);
    const ledger = JSON.parse(replay.stdout) as { replayedBalanceUnits: string; matches: boolean };
    t.equal(ledger.replayedBalanceUnits, alice.balanceUnits, 'replay agrees with what serve answered');
    t.equal(ledger.matches, true);

    t.equal(verify.code, 0, `verify: ${verify.stdout}${verify.stderr}`);
    const rebuild = await runCliProcess(['rebuild'], env);
    t.equal(rebuild.code, 0, `rebuild: ${rebuild.stdout}${rebuild.stderr}`);
    const again = await runCliProcess(['verify'], env);
    t.equal(again.code, 0, 'verify is clean on the rebuilt read model');

    // The projector alone, into a read model of its own, then verified.
    const projectEnv = { ...env, READ_MODEL_PATH: join(dir, 'projected.db') };
    const project = startCli(['project'], { ...projectEnv, LOG_LEVEL: 'info' });
    for (let waited = 0; !project.output().includes('projector caught up'); waited += 100) {
      if (waited > 60_000 || project.child.exitCode !== null) throw new Error(`project did not catch up:\n${project.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.match(project.output(), /"position":"7".*projector caught up|projector caught up.*"position":"7"/, 'project caught up with every event');
    t.equal((await stop(project)).code, 0, 'project stops cleanly');
    const verifyProjected = await runCliProcess(['verify'], projectEnv);
    t.equal(verifyProjected.code, 0, 'verify is clean on the projected read model');
    t.match(verifyProjected.stdout, /accounts: 2\s+events: 7\s+mismatches: 0/);
  });
}
