// Benchmark of the embedded event store beside a raw better-sqlite3 reference measured in the same
// run with the same durability (WAL, synchronous=FULL): appends one at a time, appends from many
// concurrent callers (group commit), and reading every event back with JSON.parse.
//
//   npm run bench:store -- [--sequential N] [--appends N] [--concurrency C] [--streams S] [--dir D] [--pg-url URL]
//   (or BENCH_SEQUENTIAL, BENCH_APPENDS, BENCH_CONCURRENCY, BENCH_STREAMS, BENCH_DIR, BENCH_PG_URL)
// With a PostgreSQL URL the same appends and reads run against the PostgreSQL store too (a fresh
// schema, dropped afterwards), beside raw INSERT and COPY of the same rows (bench/store-postgres.ts).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { uuidV7Generator } from '../src/commands/clock.js';
import type { EventToAppend } from '../src/store/port.js';
import { configureConnection } from '../src/store/sqlite/schema.js';
import { openSqliteStore, type SqliteEventStore } from '../src/store/sqlite/store.js';

function setting(flag: string, env: string, fallback: number): number {
  const at = process.argv.indexOf(`--${flag}`);
  const raw = at >= 0 ? process.argv[at + 1] : process.env[env];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${flag} / ${env}: a positive integer, got ${raw}`);
  return value;
}

const sequential = setting('sequential', 'BENCH_SEQUENTIAL', 2_000);
const appends = setting('appends', 'BENCH_APPENDS', 20_000);
const concurrency = setting('concurrency', 'BENCH_CONCURRENCY', 64);
const dirFlag = process.argv.indexOf('--dir');
const baseDir = (dirFlag >= 0 ? process.argv[dirFlag + 1] : process.env.BENCH_DIR) ?? tmpdir();
/** Accounts (streams) the appends spread over: more streams, more distinct index pages per commit. */
const ACCOUNTS = setting('streams', 'BENCH_STREAMS', 10_000);
/** Event ids as the command handler makes them: time-ordered UUIDv7. */
const ids = uuidV7Generator();

/** A heartbeat as the command handler writes it. */
function heartbeat(account: number): EventToAppend {
  const at = new Date().toISOString();
  return {
    id: ids.next(),
    type: 'Heartbeat',
    data: { sessionId: '0195f3c2-7d4e-7a10-8b2c-3d4e5f607182', at },
    metadata: { schemaVersion: 1, recordedAt: at, correlationId: randomUUID(), actor: { kind: 'user', id: `acct-${account}` } },
  };
}

async function timed(work: () => Promise<void> | void): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** Appends as the command handler does: exact expected revisions; caller k owns the accounts a % callers = k. */
async function storeAppends(store: SqliteEventStore, total: number, callers: number, revisions: Map<number, bigint>): Promise<number> {
  let remaining = total;
  const caller = async (k: number) => {
    for (let account = k; remaining > 0; account = account + callers >= ACCOUNTS ? k : account + callers) {
      remaining--;
      const result = await store.append(`mining-acct-${account}`, [heartbeat(account)], revisions.get(account) ?? 'no_stream');
      revisions.set(account, result.nextExpectedRevision);
    }
  };
  const count = Math.min(callers, ACCOUNTS);
  return timed(() => Promise.all(Array.from({ length: count }, (_, k) => caller(k))).then(() => undefined));
}

async function storeReadAll(store: SqliteEventStore): Promise<{ seconds: number; events: number }> {
  let events = 0;
  const seconds = await timed(async () => {
    for await (const event of store.readAll()) if (event.data) events++;
  });
  return { seconds, events };
}

/** From the append call to onEvents of a live subscription in the same process, for sequential appends. */
async function liveLatency(store: SqliteEventStore, count: number): Promise<{ p50: number; p99: number }> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let delivered: () => void = () => undefined;
  const subscription = store.subscribeToAll({ from: await store.headPosition(), prefix: 'mining-' }, {
    onEvents(events) {
      const now = performance.now();
      for (const event of events) latencies.push(now - (sentAt.get(event.id) ?? now));
      if (latencies.length >= count) delivered();
    },
  });
  const all = new Promise<void>((resolve) => (delivered = resolve));
  for (let n = 0; n < count; n++) {
    const event = heartbeat(0);
    sentAt.set(event.id, performance.now());
    await store.append('mining-latency', [event], 'any');
  }
  await all;
  await subscription.stop();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

function rawReference(path: string, inserts: number, batched: number, batchSize: number) {
  const db = new Database(path);
  configureConnection(db);
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL,
    id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL)`);
  const insert = db.prepare('INSERT INTO events(stream, revision, id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const row = (n: number) => {
    const event = heartbeat(n % ACCOUNTS);
    return [`mining-acct-${n % ACCOUNTS}`, Math.floor(n / ACCOUNTS), event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata)];
  };
  const insertMany = db.transaction((from: number, count: number) => {
    for (let n = from; n < from + count; n++) insert.run(...row(n));
  });
  const started = performance.now();
  for (let n = 0; n < inserts; n++) insert.run(...row(n));
  const oneSeconds = (performance.now() - started) / 1000;
  const batchStarted = performance.now();
  for (let n = 0; n < batched; n += batchSize) insertMany(inserts + n, Math.min(batchSize, batched - n));
  const batchSeconds = (performance.now() - batchStarted) / 1000;
  const readStarted = performance.now();
  let read = 0;
  for (const r of db.prepare('SELECT * FROM events ORDER BY position').iterate() as Iterable<{ data: string; metadata: string }>) {
    JSON.parse(r.data);
    JSON.parse(r.metadata);
    read++;
  }
  const readSeconds = (performance.now() - readStarted) / 1000;
  db.close();
  return { oneSeconds, batchSeconds, readSeconds, read };
}

const rate = (count: number, seconds: number) => count / seconds;
const fmt = (perSecond: number) => `${Math.round(perSecond).toLocaleString('en-US')}/s`.padStart(14);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(baseDir, 'bench-store-'));
  try {
    const store = await openSqliteStore({ path: join(dir, 'events.db') });
    const revisions = new Map<number, bigint>();
    const seqSeconds = await storeAppends(store, sequential, 1, revisions);
    const groupSeconds = await storeAppends(store, appends, concurrency, revisions);
    const read = await storeReadAll(store);
    const latency = await liveLatency(store, Math.min(sequential, 500));
    await store.close();
    const raw = rawReference(join(dir, 'raw.db'), sequential, appends, concurrency);

    const rows: [string, number, number][] = [
      ['sequential appends (1 per commit)', rate(sequential, seqSeconds), rate(sequential, raw.oneSeconds)],
      [`${concurrency} concurrent appenders / raw batches of ${concurrency}`, rate(appends, groupSeconds), rate(appends, raw.batchSeconds)],
      ['read all + JSON.parse (events)', rate(read.events, read.seconds), rate(raw.read, raw.readSeconds)],
    ];
    console.log(`store benchmark: ${sequential} sequential + ${appends} concurrent appends of one heartbeat event ` +
      `over ${ACCOUNTS} streams, WAL + synchronous=FULL, in ${dir}`);
    console.log(`${'measure'.padEnd(44)}${'store'.padStart(14)}${'raw sqlite'.padStart(14)}${'ratio'.padStart(8)}`);
    for (const [name, store, reference] of rows) {
      console.log(`${name.padEnd(44)}${fmt(store)}${fmt(reference)}${(store / reference).toFixed(2).padStart(8)}`);
    }
    console.log(`live subscription delivery after append (same process): p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`);
    const pgFlag = process.argv.indexOf('--pg-url');
    const pgUrl = pgFlag >= 0 ? process.argv[pgFlag + 1] : process.env.BENCH_PG_URL;
    if (pgUrl) {
      const { benchPostgres } = await import('./store-postgres.js');
      const pgResult = await benchPostgres({ url: pgUrl, sequential, appends, concurrency, accounts: ACCOUNTS, heartbeat });
      console.log(`${'measure (PostgreSQL, same rows)'.padEnd(64)}${'pg store'.padStart(14)}${'raw pg'.padStart(14)}${'ratio'.padStart(8)}`);
      for (const [name, store, reference] of pgResult.rows) {
        console.log(`${name.padEnd(64)}${fmt(store)}${fmt(reference)}${(store / reference).toFixed(2).padStart(8)}`);
      }
      console.log(`pg: delivery to another connection's subscription (LISTEN/NOTIFY): p50 ${pgResult.latency.p50.toFixed(2)} ms, p99 ${pgResult.latency.p99.toFixed(2)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
