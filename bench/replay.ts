// Replay benchmark: the auditor's ledger of ONE account with a very long stream (SPEC §8: 1,000,000
// events in <= 3 s, with memory that does not grow with the stream). The store is generated once
// (sessions of ~1,000 heartbeats, 30 s apart) and kept; the read model is caught up first, so the
// timed run is the replay itself. `replay --json` runs as a child process, its RSS sampled every 10 ms.
//   npm run bench:replay -- [--events 1000000] [--dir data/bench-replay]   (or BENCH_EVENTS, BENCH_DIR)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uuidV7Generator, virtualClock } from '../src/commands/clock.js';
import { encode } from '../src/commands/codec.js';
import { streamOf, type MiningEvent } from '../src/domain/events.js';
import { toIso } from '../src/domain/time.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const ACCOUNT = 'long-stream';
const SESSION_BEATS = 1000;

function option(name: string, env: string | undefined, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : env ?? fallback;
}

/** Writes `total` events to one account: start, 998 heartbeats, a user stop, again and again. */
async function generate(path: string, total: number): Promise<void> {
  const store = await openSqliteStore({ path });
  const clock = virtualClock(Date.UTC(2024, 0, 1));
  const ids = uuidV7Generator(clock);
  const context = { actor: { kind: 'user' as const, id: ACCOUNT }, correlationId: 'bench-replay' };
  let revision: bigint | 'no_stream' = 'no_stream';
  let written = 0;
  let sessionId = '';
  let inSession = 0;
  while (written < total) {
    const batch = [];
    for (let i = 0; i < 2000 && written < total; i++, written++) {
      const at = toIso(clock.advance(30_000));
      let event: MiningEvent;
      if (inSession === 0) {
        sessionId = ids.next();
        event = { type: 'MiningStarted', data: { sessionId, accountId: ACCOUNT, at, rateUnitsPerHour: '25000000', heartbeatTimeoutMs: 300_000, maxSessionMs: 0 } };
      } else if (inSession === SESSION_BEATS - 1 || written === total - 1) {
        event = { type: 'MiningStopped', data: { sessionId, at, reason: 'user' } };
      } else {
        event = { type: 'Heartbeat', data: { sessionId, at } };
      }
      inSession = event.type === 'MiningStopped' ? 0 : inSession + 1;
      batch.push(encode(event, ids.next(), at, context));
    }
    revision = (await store.append(streamOf(ACCOUNT), batch, revision)).nextExpectedRevision;
  }
  await store.close();
}

/** utime + stime of a live process in seconds (clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; seconds: number; peakRssMb: number; cpuSeconds: number }> {
  return new Promise((done, fail) => {
    const began = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'mining-ledger.js'), ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    let peak = 0;
    // CPU time as last sampled (up to 10 ms short): on a busy machine, wall time says little alone.
    let cpu = 0;
    const sample = setInterval(() => {
      try {
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (rss) peak = Math.max(peak, Number(rss[1]) / 1024);
        cpu = cpuSeconds(child.pid);
      } catch {
        // the child has just exited
      }
    }, 10);
    child.once('error', fail);
    child.once('exit', (code) => {
      clearInterval(sample);
      done({ code: code ?? 1, seconds: (performance.now() - began) / 1000, peakRssMb: peak, cpuSeconds: cpu });
    });
  });
}

async function measure(events: number, dir: string) {
  const storePath = join(dir, `events-${events}.db`);
  const readPath = join(dir, `read-${events}.db`);
  if (!existsSync(storePath)) {
    process.stdout.write(`generating ${events} events for one account in ${storePath} …\n`);
    await generate(storePath, events);
  }
  const env = { ...process.env, EVENT_STORE_URL: `sqlite:${storePath}`, READ_MODEL_PATH: readPath, DATA_DIR: dir, LOG_LEVEL: 'warn' };
  const rebuilt = await cli(['rebuild'], env);
  if (rebuilt.code !== 0) throw new Error(`rebuild exited ${rebuilt.code}`);
  const runs = [await cli(['replay', ACCOUNT, '--json'], env), await cli(['replay', ACCOUNT, '--json'], env)];
  if (runs.some((r) => r.code !== 0)) throw new Error('replay reported a mismatch');
  const best = runs.reduce((a, b) => (a.seconds <= b.seconds ? a : b));
  return { events, seconds: best.seconds, cpuSeconds: best.cpuSeconds, peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)) };
}

async function main(): Promise<void> {
  const events = Number(option('events', process.env.BENCH_EVENTS, '1000000'));
  if (!Number.isSafeInteger(events) || events < 1000) throw new Error('--events must be an integer >= 1000');
  const dir = resolve(option('dir', process.env.BENCH_DIR, 'data/bench-replay'));
  const noop = await cli(['--help'], process.env);
  process.stdout.write(`process start (mining-ledger --help): ${noop.seconds.toFixed(2)} s, ${noop.peakRssMb.toFixed(0)} MB\n`);
  process.stdout.write(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores\n`);
  const results = [];
  for (const size of [Math.round(events / 10), events]) results.push(await measure(size, dir));
  for (const r of results) {
    process.stdout.write(
      `replay --json of one account with ${r.events} events: ${r.seconds.toFixed(2)} s wall (incl. process start), ` +
      `${Math.round(r.events / r.seconds)} events/s, CPU ${r.cpuSeconds.toFixed(2)} s (both threads), peak RSS ${r.peakRssMb.toFixed(0)} MB\n`,
    );
  }
  const [small, large] = results;
  process.stdout.write(`peak RSS growth for ${large!.events / small!.events}x the events: ${(large!.peakRssMb / small!.peakRssMb).toFixed(2)}x (flat = ~1.0x)\n`);
  process.stdout.write(`goal: <= 3 s for 1,000,000 events -> ${large!.events >= 1_000_000 ? (large!.seconds <= 3 ? 'met' : 'NOT met') : 'run with --events 1000000'}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:replay failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
