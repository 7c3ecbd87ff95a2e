// The store contract against PostgreSQL when TEST_PG_URL is set (.ci/setup.d/20-postgres.sh), each
// test in a fresh schema with pages small enough that every read crosses page boundaries; and what
// needs no server: URL checks, error mapping, an unreachable server answering unavailable.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { ConfigError, validateEventStoreUrl } from '../../src/config/config.js';
import { openEventStore } from '../../src/store/open.js';
import { StoreUnavailableError } from '../../src/store/port.js';
import { isUnavailable, toPortError } from '../../src/store/postgres/errors.js';
import { parsePostgresUrl } from '../../src/store/postgres/schema.js';
import { storeContract } from './contract.js';
import { collect, idsOf, newEvents, record } from './contract-helpers.js';
import { freshSchemaUrl, openPostgresStore, PG_SKIP, pgUrl } from './postgres-helpers.js';
import { miningCodec } from '../../src/commands/codec.js';

if (pgUrl) {
  void storeContract(t, 'postgres', (t) => {
    const url = freshSchemaUrl(t);
    return { open: () => openPostgresStore(url, { pageSize: 7 }) };
  });
} else {
  t.comment(`PostgreSQL contract SKIPPED: ${PG_SKIP}`);
  t.skip(`postgres store contract (${PG_SKIP})`, () => {});
}

t.test('postgres:// and postgresql:// URLs are accepted; a schema must be a plain identifier', async (t) => {
  t.doesNotThrow(() => validateEventStoreUrl('postgres://u:p@localhost:5432/db'));
  t.doesNotThrow(() => validateEventStoreUrl('postgresql://localhost/db'));
  t.throws(() => validateEventStoreUrl('postgres:/nohost'), ConfigError);
  t.same(parsePostgresUrl('postgres://u:p@h:5/db?schema=abc_1&sslmode=disable'),
    { connectionString: 'postgres://u:p@h:5/db?sslmode=disable', schema: 'abc_1' });
  t.equal(parsePostgresUrl('postgresql://h/db').schema, 'mining_ledger', 'default schema');
  t.throws(() => parsePostgresUrl('postgres://h/db?schema=Robert%22;drop'), ConfigError);
  t.throws(() => parsePostgresUrl('postgres://'), ConfigError);
  t.throws(() => parsePostgresUrl('mysql://h/db'), ConfigError);
});

t.test('server and link failures map to StoreUnavailableError; content errors pass unchanged', async (t) => {
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  for (const code of ['57P01', '57P03', '08006', '53300', '40001', 'ECONNREFUSED', 'ECONNRESET']) {
    t.ok(isUnavailable(coded(code)), code);
    t.type(toPortError(coded(code)), StoreUnavailableError);
  }
  t.ok(isUnavailable(new Error('Connection terminated unexpectedly')));
  const content = coded('22P02', 'invalid input syntax');
  t.equal(toPortError(content), content, 'a data error is not unavailability');
  t.notOk(isUnavailable('a string'));
  const already = new StoreUnavailableError('down');
  t.equal(toPortError(already), already);
});

if (pgUrl) {
  // Needs no server, but loads the adapter: only where the adapter's other tests run too.
  t.test('an unreachable server: the store opens, and every call answers unavailable', async (t) => {
    const store = await openEventStore('postgres://nobody:x@127.0.0.1:1/none?schema=unreachable', { codec: miningCodec });
    t.teardown(() => store.close());
    const event = { id: randomUUID(), type: 'T', data: {}, metadata: {} };
    await t.rejects(store.append('mining-x', [event], 'any'), StoreUnavailableError);
    await t.rejects(store.headPosition(), StoreUnavailableError);
    await t.rejects(store.streamRevision('mining-x'), StoreUnavailableError);
    const read = async () => {
      for await (const _ of store.readAll()) t.fail('nothing to read');
    };
    await t.rejects(read(), StoreUnavailableError);
    await store.close();
    await t.rejects(store.append('mining-x', [event], 'any'), StoreUnavailableError, 'closed');
  });

  t.test("another connection's commits wake a subscription through NOTIFY, not the poll", async (t) => {
    const url = freshSchemaUrl(t);
    // An hour between polls: only a notification can deliver these in time.
    const reader = await openPostgresStore(url, { pollIntervalMs: 3_600_000 });
    const writer = await openPostgresStore(url);
    t.teardown(async () => {
      await reader.close();
      await writer.close();
    });
    const sub = record(reader, { from: 'start', prefix: 'mining-' });
    await sub.until('caught up', () => sub.caughtUpAt === 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const written = newEvents(3);
    for (const event of written) await writer.append('mining-notify', [event], 'any');
    await sub.until('three notified events', () => sub.events.length === 3, 10_000);
    t.same(idsOf(sub.events), idsOf(written));
    await sub.subscription.stop();
  });

  t.test('two handles appending at once: a subscriber sees every event once, positions increasing', async (t) => {
    const url = freshSchemaUrl(t);
    const stores = await Promise.all([0, 1, 2].map(() => openPostgresStore(url, { pageSize: 50 })));
    t.teardown(() => Promise.all(stores.map((s) => s.close())));
    const sub = record(stores[2]!, { from: 'start', prefix: 'mining-' });
    const ids: string[] = [];
    await Promise.all([0, 1].flatMap((k) => Array.from({ length: 20 }, async (_, i) => {
      for (let n = 0; n < 10; n++) {
        const [event] = newEvents(1);
        ids.push(event!.id);
        await stores[k]!.append(`mining-s${k}-${i}`, [event!], n === 0 ? 'no_stream' : BigInt(n - 1));
      }
    })));
    await sub.until('every event', () => sub.events.length >= 400, 30_000);
    t.equal(sub.events.length, 400, 'no event twice');
    t.same(new Set(idsOf(sub.events)), new Set(ids), 'every event');
    t.ok(sub.events.every((e, i) => i === 0 || e.position > sub.events[i - 1]!.position), 'positions increase');
    const all = await collect(stores[2]!.readAll({ prefix: 'mining-' }));
    t.same(idsOf(all), idsOf(sub.events), 'in the order readAll gives');
    await sub.subscription.stop();
  });

  t.test('tables are created on first use by several processes at once, and a bad password is a configuration error', async (t) => {
    const url = freshSchemaUrl(t);
    const stores = await Promise.all([0, 1, 2, 3].map(() => openPostgresStore(url)));
    t.teardown(() => Promise.all(stores.map((s) => s.close())));
    const results = await Promise.all(stores.map((s, i) => s.append(`mining-first-${i}`, newEvents(1), 'no_stream')));
    t.equal(new Set(results.map((r) => r.position)).size, 4);
    const bad = new URL(pgUrl!);
    bad.password = 'wrong-password';
    await t.rejects(openPostgresStore(bad.toString()), ConfigError);
  });
}
