// Heartbeat ingest over HTTP: autocannon drives `mining-ledger serve` (embedded store, projector and
// sweeper in process, every answer after fsync) with heartbeats for N mining accounts, and the same
// load against a bare Fastify route, in the same run, alternating. Each server runs in its own
// process; the figures are throughput, latency p50/p99, and the server's CPU per request.
//
//   npm run bench:api -- [--duration S] [--connections C] [--accounts N] [--rounds R] [--warmup S]
//   (or BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ACCOUNTS, BENCH_ROUNDS, BENCH_WARMUP)
//   BENCH_SERVE_FLAGS="--no-projector --no-sweeper" measures the API alone (for finding costs);
//   BENCH_SERVE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the serve process;
//   BENCH_THREADS=1 prints serve's CPU per request by thread (main, the writer worker, the rest).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { signToken } from '../src/api/auth.js';
import { autocannon, type CannonRequest, cpuSeconds, freePort, setting, stopChild, waitUntilUp, ROOT } from './support.js';


const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds of each thread of a process, by thread id (Linux /proc). */
function threadSeconds(pid: number): Map<string, number> {
  const byTid = new Map<string, number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byTid;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      byTid.set(tid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S);
    } catch {
      // the thread ended
    }
  }
  return byTid;
}

/**
 * µs per request of the main thread, of the busiest other thread (the writer worker under this
 * load), and of the rest (V8's GC and compiler helpers, libuv's pool).
 */
function threadShares(pid: number, before: Map<string, number>, after: Map<string, number>, requests: number): Map<string, number> {
  const used = [...after].map(([tid, seconds]) => [tid, seconds - (before.get(tid) ?? 0)] as const);
  const main = used.find(([tid]) => tid === String(pid))?.[1] ?? 0;
  const others = used.filter(([tid]) => tid !== String(pid)).sort((a, b) => b[1] - a[1]);
  const busiest = others[0]?.[1] ?? 0;
  const rest = others.slice(1).reduce((sum, [, seconds]) => sum + seconds, 0);
  const us = (seconds: number) => (requests > 0 ? (seconds * 1e6) / requests : 0);
  return new Map([['main', us(main)], ['busiest other (writer)', us(busiest)], ['rest', us(rest)]]);
}

/** The reference: the least a Fastify POST route can do. */
async function runBareServer(port: number): Promise<void> {
  const app = Fastify({ logger: false });
  app.post('/v1/accounts/:accountId/mining/heartbeat', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

interface Target {
  name: string;
  base: string;
  child: ChildProcess;
}

async function startServe(dataDir: string): Promise<Target> {
  const port = await freePort();
  const env = {
    ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn', COMMAND_RATE_LIMIT_PER_MINUTE: '0',
  };
  const flags = (process.env.BENCH_SERVE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'mining-ledger.js'), 'serve', ...flags], {
    env, stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${base}/healthz`, child);
  return { name: `serve ${flags.join(' ') || '(durable heartbeats)'}`, base, child };
}

async function startBare(): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--bare-server', String(port)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const up = async () => (await fetch(`${base}/v1/accounts/a/mining/heartbeat`, { method: 'POST' })).ok;
  for (let attempt = 0; attempt < 400 && !(await up().catch(() => false)); attempt++) await new Promise((wake) => setTimeout(wake, 50));
  return { name: 'bare Fastify route', base, child };
}

function heartbeatRequests(accounts: string[], tokens: string[]): CannonRequest[] {
  let next = 0;
  return [{
    method: 'POST',
    setupRequest(request) {
      const i = next++ % accounts.length;
      request.path = `/v1/accounts/${accounts[i]}/mining/heartbeat`;
      request.headers = { ...request.headers, authorization: `Bearer ${tokens[i]}` };
      return request;
    },
  }];
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number;
  /** µs per request: main thread, busiest other thread, the rest. */
  threads: Map<string, number>;
  failures: number;
}

async function load(target: Target, requests: CannonRequest[], connections: number, duration: number): Promise<Figures> {
  const cpuBefore = cpuSeconds(target.child.pid!);
  const threadsBefore = threadSeconds(target.child.pid!);
  const result = await autocannon({ url: target.base, connections, duration, requests });
  const cpu = cpuSeconds(target.child.pid!) - cpuBefore;
  const threads = threadShares(target.child.pid!, threadsBefore, threadSeconds(target.child.pid!), result.requests.total);
  return {
    threads,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUsPerRequest: result.requests.total > 0 ? (cpu * 1e6) / result.requests.total : 0,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

const line = (name: string, f: Figures) =>
  `${name.padEnd(28)} ${f.rps.toFixed(0).padStart(8)} req/s   p50 ${String(f.p50).padStart(3)} ms   p99 ${String(f.p99).padStart(3)} ms   ` +
  `server CPU ${f.cpuUsPerRequest.toFixed(0).padStart(4)} µs/req${f.failures ? `   FAILURES ${f.failures}` : ''}`;

async function startSessions(base: string, accounts: string[], tokens: string[]): Promise<void> {
  await Promise.all(accounts.map(async (account, i) => {
    const response = await fetch(`${base}/v1/accounts/${account}/mining/start`, { method: 'POST', headers: { authorization: `Bearer ${tokens[i]}` } });
    if (response.status !== 201 && response.status !== 200) throw new Error(`start ${account}: ${response.status} ${await response.text()}`);
  }));
}

async function main(): Promise<void> {
  const duration = setting('duration', 'BENCH_DURATION', 10);
  const warmup = setting('warmup', 'BENCH_WARMUP', 2);
  const connections = setting('connections', 'BENCH_CONNECTIONS', 32);
  const accountCount = setting('accounts', 'BENCH_ACCOUNTS', 256);
  const rounds = setting('rounds', 'BENCH_ROUNDS', 2);
  const accounts = Array.from({ length: accountCount }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
  const tokens = accounts.map((sub) => signToken({ sub, ttlSeconds: 24 * 3600 }, Buffer.from(SECRET), Date.now()));
  const dataDir = mkdtempSync(join(tmpdir(), 'mining-ledger-bench-api-'));
  console.log(`bench:api — ${accountCount} mining accounts, ${connections} connections, ${duration} s per run (+${warmup} s warm-up), ${rounds} round(s)`);

  const serve = await startServe(dataDir);
  const bare = await startBare();
  try {
    await startSessions(serve.base, accounts, tokens);
    const results: { serve: Figures[]; bare: Figures[] } = { serve: [], bare: [] };
    for (const target of [bare, serve]) if (warmup > 0) await load(target, heartbeatRequests(accounts, tokens), connections, warmup);
    for (let round = 1; round <= rounds; round++) {
      for (const [key, target] of [['bare', bare], ['serve', serve]] as const) {
        const figures = await load(target, heartbeatRequests(accounts, tokens), connections, duration);
        results[key].push(figures);
        console.log(`round ${round}  ${line(target.name, figures)}`);
        if (key === 'serve' && process.env.BENCH_THREADS) {
          const parts = [...figures.threads].map(([name, us]) => `${name} ${us.toFixed(1)}`);
          console.log(`         server CPU by thread (µs/req): ${parts.join(', ')}`);
        }
      }
    }
    report(results.serve, results.bare);
  } finally {
    await stopChild(serve.child);
    await stopChild(bare.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(serve: Figures[], bare: Figures[]): void {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const ratios = serve.map((s, i) => s.rps / bare[i]!.rps);
  const worstP99 = Math.max(...serve.map((s) => s.p99));
  console.log('');
  console.log(`bare Fastify      ${mean(bare.map((f) => f.rps)).toFixed(0)} req/s`);
  console.log(`serve heartbeats  ${mean(serve.map((f) => f.rps)).toFixed(0)} req/s   p50 ${mean(serve.map((f) => f.p50)).toFixed(1)} ms   p99 ${worstP99} ms (worst round)`);
  console.log(`ratio             ${mean(ratios).toFixed(3)}  (per round: ${ratios.map((r) => r.toFixed(3)).join(', ')})   goal ≥ 0.5`);
  console.log(`p99 goal          ≤ 50 ms: ${worstP99 <= 50 ? 'met' : 'not met'}`);
  const failures = serve.reduce((n, f) => n + f.failures, 0);
  if (failures > 0) {
    console.log(`serve answered ${failures} requests with something other than 2xx: the figures are not valid`);
    process.exitCode = 1;
  }
}

if (process.argv[2] === '--bare-server') await runBareServer(Number(process.argv[3]));
else await main();
