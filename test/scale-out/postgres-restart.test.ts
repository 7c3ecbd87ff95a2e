// PostgreSQL restarted under load (TEST_PG_RESTART_URL and TEST_PG_RESTART_CMD: a server this test
// may restart, see .ci/setup.d/20-postgres.sh): commands answer 503 with Retry-After while it is
// down, never 500; nothing acknowledged is lost; subscriptions (the projector's in `serve`, and one
// here) resume from their checkpoint without a gap or a repeat.
import { exec } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import t from 'tap';
import { record } from '../store/contract-helpers.js';
import { freshSchemaUrl, openPostgresStore } from '../store/postgres-helpers.js';
import { JWT_SECRET, mintToken, startNode, stop } from './helpers.js';

const url = process.env.TEST_PG_RESTART_URL;
const restartCommand = process.env.TEST_PG_RESTART_CMD;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (!url || !restartCommand) {
  const why = 'needs TEST_PG_RESTART_URL and TEST_PG_RESTART_CMD (a PostgreSQL server the test may restart; .ci/setup.d/20-postgres.sh sets them)';
  t.comment(`PostgreSQL restart suite SKIPPED: ${why}`);
  t.skip(`restart PostgreSQL under load (${why})`, () => {});
} else {
  t.setTimeout(240_000);
  t.test('a PostgreSQL restart under load: 503s while down, nothing acknowledged lost, subscriptions resume', async (t) => {
    const env = {
      EVENT_STORE_URL: freshSchemaUrl(t, url), DATA_DIR: join(t.testdir(), 'node'), JWT_SECRET,
      COMMAND_RATE_LIMIT_PER_MINUTE: '0', HEARTBEAT_INTERVAL_MS: '1000', HEARTBEAT_TIMEOUT_MS: '600000',
    };
    const node = await startNode('serve', [], env);
    t.teardown(() => stop(node.proc));
    const auth = { authorization: `Bearer ${await mintToken(['--role', 'gateway'], env)}`, 'content-type': 'application/json' };
    const store = await openPostgresStore(env.EVENT_STORE_URL, { pollIntervalMs: 200 });
    t.teardown(() => store.close());
    const watcher = record(store, { from: 'start', prefix: 'mining-' });

    const acked: { account: string; position: bigint }[] = [];
    const statuses = new Map<number, number>();
    let missingRetryAfter = 0;
    let restarting = true;
    let restartedAt = 0;
    async function drive(account: string) {
      let sessionId: string | undefined;
      while (restarting || Date.now() < restartedAt + 2000) {
        const command = sessionId ? 'heartbeat' : 'start';
        try {
          const response = await fetch(`${node.base}/v1/accounts/${account}/mining/${command}`, {
            method: 'POST', headers: auth, body: JSON.stringify(sessionId ? { sessionId } : {}), signal: AbortSignal.timeout(40_000),
          });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const body = (await response.json()) as { position?: string; session?: { sessionId: string }; recorded?: boolean };
          if (response.status === 503 && !response.headers.get('retry-after')) missingRetryAfter++;
          if (response.status < 300) {
            sessionId = body.session!.sessionId;
            if (command === 'start' || body.recorded) acked.push({ account, position: BigInt(body.position!) });
          }
        } catch (error) {
          t.fail(`a request failed without an answer: ${String(error)}`);
        }
        await sleep(20);
      }
    }
    async function restart() {
      await sleep(1500);
      await promisify(exec)(restartCommand!);
      restartedAt = Date.now();
      restarting = false;
    }
    await Promise.all([...['a', 'b', 'c', 'd', 'e', 'f'].map(drive), restart()]);

    t.same([...statuses.keys()].filter((status) => status !== 200 && status !== 201 && status !== 503), [], `only 200, 201 and 503: ${JSON.stringify(Object.fromEntries(statuses))}`);
    t.ok((statuses.get(503) ?? 0) > 0, 'commands answered 503 while the server was down');
    t.equal(missingRetryAfter, 0, 'every 503 carries Retry-After');
    const afterRestart = acked.length;
    t.ok(afterRestart > 20, `${afterRestart} acknowledged commands`);

    const head = await store.headPosition();
    const all: bigint[] = [];
    for await (const event of store.readAll({ prefix: 'mining-' })) all.push(event.position);
    const stored = new Set(all);
    t.same(acked.filter((ack) => !stored.has(ack.position)), [], 'every acknowledged command is stored');

    await watcher.until('every stored event', () => watcher.events.length >= all.length, 30_000);
    t.same(watcher.events.map((e) => e.position), all, 'the subscription saw every event once, in order, across the restart');
    t.same(watcher.errors, [], 'and never failed');
    const account = await fetch(`${node.base}/v1/accounts/a?minPosition=${String(head)}`, { headers: { authorization: auth.authorization } });
    t.equal(account.status, 200, "serve's projector resumed and reached the head");
    await watcher.subscription.stop();
    t.equal((await stop(node.proc)).code, 0, 'serve stops cleanly');
  });
}
