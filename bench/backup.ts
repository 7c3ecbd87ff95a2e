// `backup` under load: a store of N events (default 1,000,000), `serve` answering heartbeats from a
// closed loop of C connections, and `mining-ledger backup` run beside it. Reports the heartbeats'
// p50/p99/max before and during the backup, and how long the backup took.
//   npm run bench:backup -- [--events 1000000] [--connections 8] [--accounts 64] [--baseline 5]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { signToken } from '../src/api/auth.js';
import { uuidV7Generator, virtualClock } from '../src/commands/clock.js';
import { encode } from '../src/commands/codec.js';
import { streamOf, type MiningEvent } from '../src/domain/events.js';
import { toIso } from '../src/domain/time.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { freePort } from './support.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const SECRET = 'b'.repeat(48);

function setting(flag: string, fallback: number): number {
  const i = process.argv.indexOf(`--${flag}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `total` past events over 1,000 accounts: sessions of 100 heartbeats 30 s apart, each stopped by its user. */
async function generate(path: string, total: number): Promise<void> {
  const store = await openSqliteStore({ path });
  const clock = virtualClock(Date.UTC(2025, 0, 1));
  const ids = uuidV7Generator(clock);
  const context = { actor: { kind: 'user' as const, id: 'bench' }, correlationId: 'bench-backup' };
  const perAccount = Math.ceil(total / 1000);
  let written = 0;
  for (let a = 0; a < 1000 && written < total; a++) {
    const accountId = `history-${a}`;
    let revision: bigint | 'no_stream' = 'no_stream';
    let inSession = 0;
    let sessionId = '';
    for (let done = 0; done < perAccount && written < total;) {
      const batch = [];
      for (; batch.length < 2000 && done < perAccount && written < total; done++, written++) {
        const at = toIso(clock.advance(30_000));
        let event: MiningEvent;
        const last = done === perAccount - 1 || written === total - 1;
        if (inSession === 0) {
          sessionId = ids.next();
          event = { type: 'MiningStarted', data: { sessionId, accountId, at, rateUnitsPerHour: '25000000', heartbeatTimeoutMs: 300_000, maxSessionMs: 0 } };
        } else if (inSession === 100 || last) event = { type: 'MiningStopped', data: { sessionId, at, reason: 'user' } };
        else event = { type: 'Heartbeat', data: { sessionId, at } };
        inSession = event.type === 'MiningStopped' ? 0 : inSession + 1;
        batch.push(encode(event, ids.next(), at, context));
      }
      revision = (await store.append(streamOf(accountId), batch, revision)).nextExpectedRevision;
    }
  }
  await store.close();
}

function cli(args: string[], env: NodeJS.ProcessEnv, stdio: 'inherit' | 'pipe' = 'inherit'): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'bin', 'mining-ledger.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', stdio, 'inherit'] });
}

const exit = (child: ChildProcess) => new Promise<number>((done) => child.once('exit', (code) => done(code ?? 1)));

interface Sample {
  at: number;
  ms: number;
}

function figures(samples: Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return `${String(samples.length).padStart(7)} heartbeats   p50 ${q(0.5).toFixed(1)} ms   p99 ${q(0.99).toFixed(1)} ms   max ${(sorted[sorted.length - 1] ?? NaN).toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const events = setting('events', 1_000_000);
  const connections = setting('connections', 8);
  const accountCount = setting('accounts', 64);
  const baselineS = setting('baseline', 5);
  const dir = mkdtempSync(join(tmpdir(), 'mining-ledger-bench-backup-'));
  try {
    const env = { DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'error', JWT_SECRET: SECRET, COMMAND_RATE_LIMIT_PER_MINUTE: '0' };
    let started = performance.now();
    await generate(join(dir, 'data', 'events.db'), events);
    process.stdout.write(`generated ${events} events in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

    const port = await freePort();
    const server = cli(['serve', '--no-sweeper'], { ...env, PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    started = performance.now();
    for (;;) {
      if (server.exitCode !== null) throw new Error('serve exited');
      const ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
      await new Promise((wake) => setTimeout(wake, 200));
    }
    process.stdout.write(`serve ready (read model caught up) after ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

    const token = signToken({ role: 'gateway', ttlSeconds: 3600 }, Buffer.from(SECRET), Date.now());
    const headers = { authorization: `Bearer ${token}` };
    const accounts = Array.from({ length: accountCount }, (_, i) => `live-${i}`);
    for (const account of accounts) await fetch(`${base}/v1/accounts/${account}/mining/start`, { method: 'POST', headers });

    const samples: Sample[] = [];
    let running = true;
    let failures = 0;
    const loops = Array.from({ length: connections }, async (_, c) => {
      for (let n = c; running; n += connections) {
        const t0 = performance.now();
        const answer = await fetch(`${base}/v1/accounts/${accounts[n % accounts.length]}/mining/heartbeat`, { method: 'POST', headers });
        await answer.arrayBuffer();
        if (answer.status !== 200) failures++;
        samples.push({ at: t0, ms: performance.now() - t0 });
      }
    });
    await new Promise((wake) => setTimeout(wake, baselineS * 1000));
    const backupStart = performance.now();
    const backup = cli(['backup', join(dir, 'backup.db')], env);
    const code = await exit(backup);
    const backupEnd = performance.now();
    await new Promise((wake) => setTimeout(wake, 1000));
    running = false;
    await Promise.all(loops);
    server.kill('SIGTERM');
    await exit(server);
    if (code !== 0) throw new Error(`backup exited ${code}`);

    process.stdout.write(`backup of ${events} events took ${((backupEnd - backupStart) / 1000).toFixed(2)} s (load average ${loadavg()[0]!.toFixed(2)})\n`);
    process.stdout.write(`before the backup  ${figures(samples.filter((s) => s.at < backupStart))}\n`);
    process.stdout.write(`during the backup  ${figures(samples.filter((s) => s.at >= backupStart && s.at < backupEnd))}\n`);
    if (failures) process.stdout.write(`FAILURES: ${failures} heartbeats not answered 200\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
