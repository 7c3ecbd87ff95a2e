// `simulate --event-store-url postgres://…`: the simulation with crashes against a PostgreSQL store,
// checked against independent truth; a store that already holds events is refused (exit 2).
import t from 'tap';
import { freshSchemaUrl, PG_SKIP, pgUrl } from '../store/postgres-helpers.js';
import { runInProcess } from '../support/cli.js';

const simulate = (url: string) => runInProcess(['simulate', '--miners', '4', '--hours', '0.3', '--seed', '11', '--crash-every', '5', '--event-store-url', url],
  { LOG_LEVEL: 'silent', DATA_DIR: t.testdir() });

if (!pgUrl) {
  t.comment(`PostgreSQL simulate SKIPPED: ${PG_SKIP}`);
  t.skip(`simulate against PostgreSQL (${PG_SKIP})`, () => {});
} else {
  t.test('simulate against an empty PostgreSQL schema matches the truth; a used one is refused', async (t) => {
    const url = freshSchemaUrl(t);
    const first = await simulate(url);
    t.equal(first.code, 0, first.err);
    t.match(first.out, /mismatches: 0/);
    t.match(first.out, /crashes: [1-9]/, 'with restarts that reopen the store');
    const again = await simulate(url);
    t.equal(again.code, 2);
    t.match(again.err, /needs an empty store/);
  });
}
