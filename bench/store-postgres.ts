// The PostgreSQL column of `npm run bench:store` (given --pg-url URL or BENCH_PG_URL): the adapter's
// group-commit appends and read-all beside raw INSERTs and COPY of the same rows, in the same run
// and the same database, plus the delay until another connection's subscription sees a commit.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventStore, EventToAppend } from '../src/store/port.js';
import { openPostgresStore } from '../src/store/postgres/store.js';

export interface PostgresBenchOptions {
  url: string;
  sequential: number;
  appends: number;
  concurrency: number;
  accounts: number;
  heartbeat(account: number): EventToAppend;
}

export interface PostgresBenchResult {
  rows: [string, number, number][];
  latency: { p50: number; p99: number };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function appendAll(store: EventStore, total: number, callers: number, accounts: number, make: (a: number) => EventToAppend, revisions: Map<number, bigint>) {
  let remaining = total;
  const caller = async (k: number) => {
    for (let account = k; remaining > 0; account = account + callers >= accounts ? k : account + callers) {
      remaining--;
      const result = await store.append(`mining-acct-${account}`, [make(account)], revisions.get(account) ?? 'no_stream');
      revisions.set(account, result.nextExpectedRevision);
    }
  };
  return timed(() => Promise.all(Array.from({ length: Math.min(callers, accounts) }, (_, k) => caller(k))));
}

/** From append on one handle to onEvents on another (its own LISTEN connection, as another node would be). */
async function crossConnectionLatency(writer: EventStore, reader: EventStore, count: number) {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let delivered: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (delivered = resolve));
  const subscription = reader.subscribeToAll({ from: await reader.headPosition(), prefix: 'mining-latency' }, {
    onEvents(events) {
      const now = performance.now();
      for (const event of events) latencies.push(now - sentAt.get(event.id)!);
      if (latencies.length >= count) delivered();
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (let n = 0; n < count; n++) {
    const event = { id: randomUUID(), type: 'Heartbeat', data: { n }, metadata: {} };
    sentAt.set(event.id, performance.now());
    await writer.append('mining-latency', [event], 'any');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await all;
  await subscription.stop();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function rawReference(client: pg.Client, options: PostgresBenchOptions) {
  await client.query(`CREATE TABLE raw_events (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE,
    stream text NOT NULL, revision bigint NOT NULL, type text NOT NULL, data text NOT NULL, metadata text NOT NULL, UNIQUE (stream, revision))`);
  const row = (n: number) => {
    const event = options.heartbeat(n % options.accounts);
    return [event.id, `mining-acct-${n % options.accounts}`, String(Math.floor(n / options.accounts)), event.type, JSON.stringify(event.data), JSON.stringify(event.metadata)];
  };
  const insert = 'INSERT INTO raw_events (id, stream, revision, type, data, metadata) VALUES ($1, $2, $3, $4, $5, $6)';
  const one = await timed(async () => {
    for (let n = 0; n < options.sequential; n++) await client.query(insert, row(n));
  });
  // Batches the size of the concurrency, one multi-row INSERT each: what group commit does at best.
  let next = options.sequential;
  const batched = await timed(async () => {
    for (let done = 0; done < options.appends; done += options.concurrency) {
      const rows = Array.from({ length: Math.min(options.concurrency, options.appends - done) }, () => row(next++));
      const columns = [0, 1, 2, 3, 4, 5].map((c) => rows.map((r) => r[c]));
      await client.query('INSERT INTO raw_events (id, stream, revision, type, data, metadata) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])', columns);
    }
  });
  const copyRows = options.appends;
  const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
  const copy = await timed(async () => {
    const lines = function* () {
      for (let n = 0; n < copyRows; n++) yield `${row(next++).map(escape).join('\t')}\n`;
    };
    await pipeline(Readable.from(lines()), client.query(copyFrom('COPY raw_events (id, stream, revision, type, data, metadata) FROM STDIN')));
  });
  let read = 0;
  const readAll = await timed(async () => {
    let after = '0';
    for (;;) {
      const page = await client.query<{ position: string; data: string; metadata: string }>(
        'SELECT position, id, stream, revision, type, data, metadata FROM raw_events WHERE position > $1 ORDER BY position LIMIT 1000', [after]);
      if (page.rows.length === 0) break;
      for (const r of page.rows) {
        JSON.parse(r.data);
        JSON.parse(r.metadata);
      }
      read += page.rows.length;
      after = page.rows[page.rows.length - 1]!.position;
    }
  });
  return { one, batched, copy, copyRows, readAll, read };
}

export async function benchPostgres(options: PostgresBenchOptions): Promise<PostgresBenchResult> {
  const schema = `bench_${Date.now()}`;
  const url = new URL(options.url);
  url.searchParams.set('schema', schema);
  const client = new pg.Client({ connectionString: options.url });
  await client.connect();
  const store = await openPostgresStore(url.toString());
  const other = await openPostgresStore(url.toString());
  try {
    const revisions = new Map<number, bigint>();
    const seq = await appendAll(store, options.sequential, 1, options.accounts, options.heartbeat, revisions);
    const group = await appendAll(store, options.appends, options.concurrency, options.accounts, options.heartbeat, revisions);
    let events = 0;
    const read = await timed(async () => {
      for await (const event of store.readAll()) if (event.data) events++;
    });
    const latency = await crossConnectionLatency(store, other, 200);
    await client.query(`SET search_path TO "${schema}"`);
    const raw = await rawReference(client, options);
    return {
      rows: [
        ['pg: sequential appends / raw INSERT (1 per tx)', options.sequential / seq, options.sequential / raw.one],
        [`pg: ${options.concurrency} concurrent appenders / raw multi-row INSERT of ${options.concurrency}`, options.appends / group, options.appends / raw.batched],
        [`pg: ${options.concurrency} concurrent appenders / raw COPY of ${raw.copyRows} rows`, options.appends / group, raw.copyRows / raw.copy],
        ['pg: read all + JSON.parse (events)', events / read, raw.read / raw.readAll],
      ],
      latency,
    };
  } finally {
    await store.close();
    await other.close();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await client.end();
  }
}
