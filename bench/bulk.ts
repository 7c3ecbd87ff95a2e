// Gateway ingest in bulk (SPEC §9): autocannon sends POST /v1/heartbeats batches to `mining-ledger
// serve` (embedded store, projector and sweeper in process, every answer after fsync) over a few
// connections, rotating over many mining accounts. Beside it, in the same run, raw better-sqlite3
// inserts the same number of event rows in transactions of one batch each, with the same durability:
// the physical limit of this store. Figures: durable heartbeats/s, the ratio to raw, p50/p99 per
// batch, the server's CPU per heartbeat, its RSS at the start and the end of the load.
//
//   npm run bench:bulk -- [--duration S] [--connections C] [--accounts N] [--batch B] [--warmup S]
//   (or BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ACCOUNTS, BENCH_BATCH, BENCH_WARMUP)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { signToken } from '../src/api/auth.js';
import { systemClock, uuidV7Generator } from '../src/commands/clock.js';
import { createCommandHandler } from '../src/commands/handler.js';
import { loadConfig, miningSettingsOf } from '../src/config/config.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { configureConnection } from '../src/store/sqlite/schema.js';
import { autocannon, type CannonRequest, cpuSeconds, freePort, rssMiB, setting, stopChild, waitUntilUp, ROOT } from './support.js';
import { miningCodec } from '../src/commands/codec.js';


const SECRET = 'bench-secret-bench-secret-bench-secret-0123';

function serveEnv(dataDir: string, port: number): Record<string, string> {
  return {
    ...process.env as Record<string, string>, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn', COMMAND_RATE_LIMIT_PER_MINUTE: '0',
  };
}

async function startServe(dataDir: string): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort();
  const env = serveEnv(dataDir, port);
  const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'mining-ledger.js'), 'serve'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${base}/healthz`, child);
  return { base, child };
}

/**
 * Starts every account's session before serve runs, through the same command handler and store
 * (HTTP would take minutes for 100,000 starts on a busy machine); serve loads each stream once, in
 * the warm-up.
 */
async function startSessions(dataDir: string, accounts: string[]): Promise<void> {
  const config = loadConfig(serveEnv(dataDir, 0));
  const store = await openSqliteStore({ codec: miningCodec, path: config.eventStoreUrl.slice('sqlite:'.length) });
  const settings = miningSettingsOf(config);
  const handler = createCommandHandler({ store, clock: systemClock, ids: uuidV7Generator(), settings: () => settings });
  const context = { actor: { kind: 'gateway' as const, id: 'bench' }, correlationId: 'bench-start' };
  try {
    for (let from = 0; from < accounts.length; from += 1000) {
      await Promise.all(accounts.slice(from, from + 1000).map((account) => handler.execute(account, { type: 'start' }, context)));
    }
  } finally {
    await store.close();
  }
}

/** The bodies of consecutive batches: batch k holds accounts k·B … k·B+B-1 (wrapping). */
function batchBodies(accounts: string[], batch: number): string[] {
  const bodies: string[] = [];
  for (let from = 0; from < accounts.length; from += batch) {
    const heartbeats = Array.from({ length: batch }, (_, i) => ({ accountId: accounts[(from + i) % accounts.length]! }));
    bodies.push(JSON.stringify({ heartbeats }));
  }
  return bodies;
}

function batchRequests(bodies: string[], authorization: string): CannonRequest[] {
  let next = 0;
  return [{
    method: 'POST',
    setupRequest(request) {
      request.path = '/v1/heartbeats';
      request.body = bodies[next++ % bodies.length]!;
      request.headers = { ...request.headers, authorization, 'content-type': 'application/json' };
      return request;
    },
  }];
}

/** A counter's samples from Prometheus text, by label set. */
async function counters(base: string, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = line.slice(name.length, line.lastIndexOf('}') + 1);
    values.set(labels, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return values;
}

function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)]));
}

/** The same rows the store writes for a heartbeat, inserted with nothing else: B per transaction, fsynced. */
function rawInserts(path: string, rows: number, batch: number, accounts: string[]): number {
  const db = new Database(path);
  configureConnection(db);
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL,
    id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL);
    CREATE UNIQUE INDEX events_id ON events(id);`);
  const insert = db.prepare('INSERT INTO events(stream, revision, id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const ids = uuidV7Generator();
  const metadata = (at: string) => JSON.stringify({ schemaVersion: 1, recordedAt: at, correlationId: 'bench-1', actor: { kind: 'gateway', id: 'gateway' } });
  const insertBatch = db.transaction((from: number, count: number) => {
    const at = new Date().toISOString();
    for (let n = from; n < from + count; n++) {
      const account = accounts[n % accounts.length]!;
      insert.run(`mining-${account}`, Math.floor(n / accounts.length) + 1, ids.next(), 'Heartbeat',
        JSON.stringify({ sessionId: '0195f3c2-7d4e-7a10-8b2c-3d4e5f607182', at }), metadata(at));
    }
  });
  const started = performance.now();
  for (let n = 0; n < rows; n += batch) insertBatch(n, Math.min(batch, rows - n));
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return rows / seconds;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const duration = setting('duration', 'BENCH_DURATION', 30);
  const warmup = setting('warmup', 'BENCH_WARMUP', 5);
  const connections = setting('connections', 'BENCH_CONNECTIONS', 8);
  const accountCount = setting('accounts', 'BENCH_ACCOUNTS', 100_000);
  const batch = setting('batch', 'BENCH_BATCH', 500);
  const accounts = Array.from({ length: accountCount }, (_, i) => `miner-${String(i).padStart(6, '0')}`);
  const authorization = `Bearer ${signToken({ role: 'gateway', ttlSeconds: 24 * 3600 }, Buffer.from(SECRET), Date.now())}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'mining-ledger-bench-bulk-'));
  console.log(`bench:bulk — ${int(accountCount)} mining accounts, batches of ${batch}, ${connections} connections, ` +
    `${duration} s (+${warmup} s warm-up); serve durable, projector and sweeper in process`);

  const seeding = performance.now();
  await startSessions(dataDir, accounts);
  console.log(`started ${int(accountCount)} sessions in ${((performance.now() - seeding) / 1000).toFixed(1)} s (command handler, before serve)`);
  const serve = await startServe(dataDir);
  try {
    const bodies = batchBodies(accounts, batch);
    const requests = batchRequests(bodies, authorization);
    // One pass over every account first: serve's caches (decision state, read model) start cold, and
    // a steady gateway does not meet 100,000 accounts for the first time within 30 s.
    const warming = performance.now();
    await autocannon({ url: serve.base, connections, amount: bodies.length, timeout: 60, requests });
    if (warmup > 0) await autocannon({ url: serve.base, connections, duration: warmup, timeout: 30, requests });
    console.log(`warm-up: every account once, then ${warmup} s, in ${((performance.now() - warming) / 1000).toFixed(1)} s`);

    const pid = serve.child.pid!;
    const rssStart = rssMiB(pid);
    const cpuStart = cpuSeconds(pid);
    const recordedBefore = await counters(serve.base, 'mining_heartbeats_total');
    const outcomesBefore = await counters(serve.base, 'mining_bulk_heartbeats_total');
    const result = await autocannon({ url: serve.base, connections, duration, timeout: 30, requests });
    const cpu = cpuSeconds(pid) - cpuStart;
    const rssEnd = rssMiB(pid);
    const recorded = delta(await counters(serve.base, 'mining_heartbeats_total'), recordedBefore).get('{recorded="true"}') ?? 0;
    const outcomes = delta(await counters(serve.base, 'mining_bulk_heartbeats_total'), outcomesBefore);
    await stopChild(serve.child);

    const perSecond = recorded / duration;
    const raw = rawInserts(join(dataDir, 'raw.db'), Math.max(batch, recorded), batch, accounts);
    const refused = [...outcomes].filter(([key, n]) => key !== '{outcome="ok"}' && n > 0);
    console.log(`batches           ${int(result.requests.total)} answered (${(result.requests.average).toFixed(1)}/s), ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms per batch`);
    console.log(`serve             ${int(perSecond)} durable heartbeats/s (${int(recorded)} recorded), ` +
      `server CPU ${(recorded > 0 ? (cpu * 1e6) / recorded : 0).toFixed(1)} µs/heartbeat over all threads`);
    console.log(`raw better-sqlite3 ${int(raw)} rows/s (the same rows, ${batch} per transaction, WAL + synchronous=FULL)`);
    console.log(`ratio             ${(perSecond / raw).toFixed(3)} of raw inserts`);
    console.log(`serve RSS         ${rssStart.toFixed(0)} MiB at the start of the load, ${rssEnd.toFixed(0)} MiB at the end`);
    console.log(`goals             ≥ 100,000 heartbeats/s: ${perSecond >= 100_000 ? 'met' : 'not met'}; p99 ≤ 100 ms per batch: ${result.latency.p99 <= 100 ? 'met' : 'not met'}`);
    const failures = result.non2xx + result.errors + result.timeouts;
    if (failures > 0 || refused.length > 0) {
      console.log(`FAILURES: ${failures} batches not 200; items not ok: ${refused.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
      process.exitCode = 1;
    }
  } finally {
    await stopChild(serve.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
