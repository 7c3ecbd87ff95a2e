// Rebuild benchmark: a synthetic store of miners with a realistic heartbeat cadence, then a rebuild
// of the read models beside a raw read-and-JSON-parse of the same events table (the reference).
// Goal (SPEC §8): rebuild at >= 0.5x the raw rate.
//   npm run bench:rebuild -- --events 1000000 --accounts 10000 [--runs 2] [--workers N] [--dir data/bench-rebuild]
//   (or BENCH_EVENTS / BENCH_ACCOUNTS / BENCH_RUNS / BENCH_WORKERS / BENCH_DIR in the environment)
// The generated store is kept in --dir and reused by later runs of the same size.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { uuidV7Generator, virtualClock } from '../src/commands/clock.js';
import { encode, miningCodec } from '../src/commands/codec.js';
import { streamOf, type MiningEvent } from '../src/domain/events.js';
import { toIso } from '../src/domain/time.js';
import { rebuildReadModel } from '../src/projections/projector/rebuild.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';

interface Options {
  events: number;
  accounts: number;
  runs: number;
  /** Rebuild threads; 0 = the rebuild's own choice. */
  workers: number;
  dir: string;
}

function option(argv: string[], name: string, env: string | undefined, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : env ?? fallback;
}

function parseOptions(argv: string[]): Options {
  const int = (name: string, env: string | undefined, fallback: number) => {
    const value = Number(option(argv, name, env, String(fallback)));
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  return {
    events: int('events', process.env.BENCH_EVENTS, 1_000_000),
    accounts: int('accounts', process.env.BENCH_ACCOUNTS, 10_000),
    runs: int('runs', process.env.BENCH_RUNS, 1),
    workers: Number(option(argv, 'workers', process.env.BENCH_WORKERS, '0')),
    dir: resolve(option(argv, 'dir', process.env.BENCH_DIR, 'data/bench-rebuild')),
  };
}

interface Miner {
  id: string;
  revision: bigint | 'no_stream';
  sessionId: string | null;
  /** Online miners beat every 30 s; an offline one is stopped by the "sweeper" at its deadline. */
  offlineSince: number | null;
  lastPresence: number;
}

const TIMEOUT = 300_000;
const BEAT = 30_000;

/** Deterministic pseudo-random numbers, so every run of the benchmark sees the same history. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** What each miner does at one 30-second tick: start, beat, stop, go offline, or be swept. */
function tick(miner: Miner, now: number, rand: () => number, newId: () => string): MiningEvent | null {
  const at = toIso(now + Math.floor(rand() * 2000));
  if (miner.sessionId === null) {
    if (rand() > 0.3) return null;
    miner.sessionId = newId();
    miner.offlineSince = null;
    return {
      type: 'MiningStarted',
      data: { sessionId: miner.sessionId, accountId: miner.id, at, rateUnitsPerHour: '25000000', heartbeatTimeoutMs: TIMEOUT, maxSessionMs: 0 },
    };
  }
  const sessionId = miner.sessionId;
  if (miner.offlineSince !== null) {
    if (now <= miner.lastPresence + TIMEOUT + 2000) return null;
    miner.sessionId = null;
    return { type: 'MiningStopped', data: { sessionId, at: toIso(miner.lastPresence + TIMEOUT), reason: 'timeout' } };
  }
  const roll = rand();
  if (roll < 0.004) {
    miner.sessionId = null;
    return { type: 'MiningStopped', data: { sessionId, at, reason: 'user' } };
  }
  if (roll < 0.01) {
    miner.offlineSince = now;
    return null;
  }
  miner.lastPresence = Date.parse(at);
  return { type: 'Heartbeat', data: { sessionId, at } };
}

async function generate(path: string, options: Options): Promise<void> {
  const store = await openSqliteStore({ codec: miningCodec, path });
  const clock = virtualClock(Date.UTC(2026, 0, 1));
  const ids = uuidV7Generator(clock);
  const rand = random(42);
  const miners: Miner[] = Array.from({ length: options.accounts }, (_, i) => ({
    id: `miner-${String(i).padStart(6, '0')}`, revision: 'no_stream', sessionId: null, offlineSince: null, lastPresence: 0,
  }));
  const context = { actor: { kind: 'user' as const, id: 'bench' }, correlationId: 'bench' };
  let written = 0;
  while (written < options.events) {
    const now = clock.advance(BEAT);
    const appends: Promise<unknown>[] = [];
    for (const miner of miners) {
      if (written >= options.events) break;
      const event = tick(miner, now, rand, () => ids.next());
      if (!event) continue;
      const expected = miner.revision;
      miner.revision = expected === 'no_stream' ? 0n : expected + 1n;
      appends.push(store.append(streamOf(miner.id), [encode(event, ids.next(), toIso(now), context)], expected));
      written++;
    }
    await Promise.all(appends);
    const line = `generating: ${written.toLocaleString('en-US')} / ${options.events.toLocaleString('en-US')} events`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
    else if (written === options.events || Math.floor(written / 100_000) > Math.floor((written - appends.length) / 100_000)) console.log(line);
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  await store.close();
}

/** The reference: page through the events table and JSON.parse every payload, nothing else. */
function rawReadAndParse(path: string): { events: number; ms: number } {
  const db = new Database(path, { readonly: true });
  db.defaultSafeIntegers(true);
  const page = db.prepare<[bigint, number], { position: bigint; stream: string; revision: bigint; id: string; type: string; data: string; metadata: string }>(
    'SELECT position, stream, revision, id, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?',
  );
  const started = performance.now();
  let after = 0n;
  let events = 0;
  let checksum = 0;
  for (;;) {
    const rows = page.all(after, 2000);
    if (rows.length === 0) break;
    for (const row of rows) {
      const data = JSON.parse(row.data) as { at: string };
      const metadata = JSON.parse(row.metadata) as { schemaVersion: number };
      checksum += data.at.length + metadata.schemaVersion;
    }
    events += rows.length;
    after = rows[rows.length - 1]!.position;
  }
  const ms = performance.now() - started;
  db.close();
  if (checksum === 0 && events > 0) throw new Error('nothing parsed');
  return { events, ms };
}

const rate = (events: number, ms: number) => Math.round((events / ms) * 1000);
const fmt = (n: number) => n.toLocaleString('en-US');

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  mkdirSync(options.dir, { recursive: true });
  const eventsPath = join(options.dir, `events-${options.events}-${options.accounts}.db`);
  if (!existsSync(eventsPath)) await generate(eventsPath, options);
  else console.log(`reusing ${eventsPath}`);
  const readModelPath = join(options.dir, 'read.db');
  for (let run = 1; run <= options.runs; run++) {
    const raw = rawReadAndParse(eventsPath);
    rmSync(readModelPath, { force: true });
    const store = await openSqliteStore({ codec: miningCodec, path: eventsPath });
    const result = await rebuildReadModel({ store, readModelPath, ...(options.workers > 0 ? { workers: options.workers } : {}) });
    await store.close();
    const rawRate = rate(raw.events, raw.ms);
    const rebuildRate = rate(result.events, result.elapsedMs);
    console.log(`run ${run}: events ${fmt(raw.events)}, accounts ${fmt(options.accounts)}`);
    console.log(`  raw read+parse  ${fmt(rawRate).padStart(10)} events/s  (${(raw.ms / 1000).toFixed(2)} s)`);
    const threads = options.workers > 0 ? `${options.workers} thread${options.workers === 1 ? '' : 's'}` : 'default threads';
    console.log(`  rebuild         ${fmt(rebuildRate).padStart(10)} events/s  (${(result.elapsedMs / 1000).toFixed(2)} s, ${threads})`);
    console.log(`  ratio           ${(rebuildRate / rawRate).toFixed(2)}x  (goal >= 0.50x)`);
  }
}

await main();
