// Sweeper benchmark on the embedded store. Prints figures; asserts nothing.
//   npm run bench:sweeper -- [--sessions N] [--window-ms W] [--memory-sessions M] [--burst-sessions B]
//                            [--interval-ms I] [--grace-ms G] [--concurrency C]
// or the same as env: SWEEPER_BENCH_SESSIONS, SWEEPER_BENCH_WINDOW_MS, SWEEPER_BENCH_MEMORY_SESSIONS, …
// Phases: (1) memory and start-up with M active sessions; (2) lag with N deadlines spread over W ms,
// swept in real time; (3) burst: B sessions overdue at once (a restart after an outage), stops/s.
// Seeding runs in a child process, so the measuring process holds nothing but the store and the index.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { uuidV7Generator, type Clock } from '../src/commands/clock.js';
import { decode, encode, miningCodec, type MiningRecord } from '../src/commands/codec.js';
import { createCommandHandler } from '../src/commands/handler.js';
import { streamOf } from '../src/domain/events.js';
import { parseIso, toIso } from '../src/domain/time.js';
import { openSqliteStore, type SqliteEventStore } from '../src/store/sqlite/store.js';
import { startSweeper } from '../src/sweeper/sweeper.js';

const T = 300_000;

function option(name: string, fallback: number): number {
  const flag = process.argv.indexOf(`--${name}`);
  const raw = flag >= 0 ? process.argv[flag + 1] : process.env[`SWEEPER_BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/** Child process: N sessions whose deadlines are spread evenly over [firstDeadline, firstDeadline + windowMs). */
async function seed(path: string, sessions: number, firstDeadline: number, windowMs: number): Promise<void> {
  const store = await openSqliteStore({ codec: miningCodec, path });
  const ids = uuidV7Generator();
  const context = { actor: { kind: 'user' as const, id: 'bench' }, correlationId: 'bench-seed' };
  const batch = 2000;
  for (let from = 0; from < sessions; from += batch) {
    const appends: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(sessions, from + batch); i++) {
      const at = toIso(firstDeadline + Math.floor((i * windowMs) / sessions) - T);
      const accountId = `bench-${i}`;
      const event = encode(
        { type: 'MiningStarted', data: { sessionId: ids.next(), accountId, at, rateUnitsPerHour: '25000000', heartbeatTimeoutMs: T, maxSessionMs: 0 } },
        ids.next(), at, context,
      );
      appends.push(store.append(streamOf(accountId), [event], 'no_stream'));
    }
    await Promise.all(appends);
  }
  await store.close();
}

async function seeded(sessions: number, firstDeadline: number, windowMs: number): Promise<{ dir: string; path: string; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sweeper-bench-'));
  const path = join(dir, 'events.db');
  const began = performance.now();
  const child = fork(fileURLToPath(import.meta.url), ['--seed', path, String(sessions), String(firstDeadline), String(windowMs)]);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`seeding failed (exit ${code})`);
  return { dir, path, ms: performance.now() - began };
}

/** A system clock whose origin can be moved: real durations, chosen instants. */
function shiftedClock(): Clock & { shiftTo(now: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, shiftTo: (now) => (offset = now - Date.now()) };
}

async function sweeperOn(store: SqliteEventStore<MiningRecord>, clock: Clock, intervalMs: number, graceMs: number, concurrency: number) {
  const settings = { rateUnitsPerHour: 25_000_000n, heartbeatTimeoutMs: T, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: graceMs };
  const handler = createCommandHandler({ store, clock, ids: uuidV7Generator(clock), settings: () => settings });
  return startSweeper({ store, handler, clock, intervalMs, graceMs, concurrency, registry: new Registry(), sweeperId: 'bench' });
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    collect();
  }
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function memoryPhase(sessions: number): Promise<void> {
  const { dir, path, ms } = await seeded(sessions, Date.now() + 86_400_000, 60_000);
  console.log(`memory: seeded ${sessions} active sessions in ${(ms / 1000).toFixed(1)} s (child process)`);
  const store = await openSqliteStore({ codec: miningCodec, path });
  // Read the log once before the baseline: SQLite's page cache (bounded, the store's, not the
  // index's) is then warm on both sides of the delta. The time is a raw read-and-parse for comparison.
  const readBegan = performance.now();
  for (let after = 0n, page = store.capabilities.pages(after, 5000); page.length > 0; page = store.capabilities.pages(after, 5000)) {
    after = page[page.length - 1]!.position;
  }
  console.log(`memory: raw read of the log ${((performance.now() - readBegan) / 1000).toFixed(2)} s`);
  gc();
  const before = process.memoryUsage();
  const began = performance.now();
  const sweeper = await sweeperOn(store, { now: () => Date.now() }, 0, 0, 64);
  await sweeper.caughtUp;
  const buildMs = performance.now() - began;
  gc();
  const after = process.memoryUsage();
  const rss = after.rss - before.rss;
  const js = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  console.log(`memory: index build ${(buildMs / 1000).toFixed(2)} s for ${sweeper.stats().activeSessions} sessions (${Math.round(sessions / (buildMs / 1000))} events/s)`);
  console.log(`memory: RSS delta ${mb(rss)} = ${(rss / sessions).toFixed(0)} B/session (page cache warmed before); heap+arrayBuffers delta ${mb(js)} = ${(js / sessions).toFixed(0)} B/session`);
  await sweeper.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

async function lagPhase(sessions: number, windowMs: number, intervalMs: number, graceMs: number, concurrency: number): Promise<void> {
  const firstDeadline = Date.UTC(2030, 0, 1);
  const { dir, path, ms } = await seeded(sessions, firstDeadline, windowMs);
  console.log(`lag: seeded ${sessions} sessions with deadlines over ${windowMs / 1000} s in ${(ms / 1000).toFixed(1)} s`);
  const store = await openSqliteStore({ codec: miningCodec, path });
  const clock = shiftedClock();
  clock.shiftTo(firstDeadline - 3_600_000); // nothing is due while the index builds
  const began = performance.now();
  const sweeper = await sweeperOn(store, clock, intervalMs, graceMs, concurrency);
  await sweeper.caughtUp;
  console.log(`lag: index build ${((performance.now() - began) / 1000).toFixed(2)} s; interval ${intervalMs} ms, grace ${graceMs} ms, concurrency ${concurrency}`);
  clock.shiftTo(firstDeadline - 1000);
  const giveUp = Date.now() + windowMs + graceMs + 120_000;
  while (sweeper.stats().stops < sessions && Date.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 200));
  await sweeper.stop();
  const lags: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  for (const recorded of store.capabilities.pages(BigInt(sessions), sessions * 2)) {
    const { event, metadata } = decode(recorded);
    if (event.type !== 'MiningStopped') continue;
    const recordedAt = parseIso(metadata.recordedAt)!;
    lags.push(recordedAt - parseIso(event.data.at)!);
    first = Math.min(first, recordedAt);
    last = Math.max(last, recordedAt);
  }
  lags.sort((a, b) => a - b);
  const rate = lags.length / Math.max(0.001, (last - first) / 1000);
  console.log(`lag: ${lags.length}/${sessions} stopped; ${rate.toFixed(0)} stops/s over the window`);
  console.log(`lag: recordedAt − at p50 ${quantile(lags, 0.5)} ms, p99 ${quantile(lags, 0.99)} ms, max ${lags[lags.length - 1] ?? NaN} ms` +
    (graceMs > 0 ? ` (beyond the grace: p99 ${quantile(lags, 0.99) - graceMs} ms)` : ''));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

async function burstPhase(sessions: number, concurrency: number): Promise<void> {
  const { dir, path } = await seeded(sessions, Date.UTC(2030, 0, 1), 60_000);
  const store = await openSqliteStore({ codec: miningCodec, path });
  const sweeper = await sweeperOn(store, { now: () => Date.UTC(2030, 0, 2) }, 0, 0, concurrency);
  await sweeper.caughtUp;
  const began = performance.now();
  const stops = await sweeper.sweepOnce();
  const seconds = (performance.now() - began) / 1000;
  console.log(`burst: ${stops} overdue sessions stopped in one pass in ${seconds.toFixed(2)} s = ${(stops / seconds).toFixed(0)} stops/s (concurrency ${concurrency})`);
  await sweeper.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === '--seed') {
  const [, , , path, sessions, firstDeadline, windowMs] = process.argv;
  await seed(path!, Number(sessions), Number(firstDeadline), Number(windowMs));
} else {
  const concurrency = option('concurrency', 64);
  if (!(globalThis as { gc?: unknown }).gc) console.log('(run with node --expose-gc for steadier memory figures)');
  const memorySessions = option('memory-sessions', 1_000_000);
  if (memorySessions > 0) await memoryPhase(memorySessions);
  const sessions = option('sessions', 100_000);
  if (sessions > 0) await lagPhase(sessions, option('window-ms', 60_000), option('interval-ms', 1000), option('grace-ms', 0), concurrency);
  const burst = option('burst-sessions', 20_000);
  if (burst > 0) await burstPhase(burst, concurrency);
}
