// Audit under load (SPEC §15): six audits of one 600,000-event account over HTTP, against the real
// API in this process (store, projector, AUDIT_CONCURRENCY), while other accounts send heartbeats;
// prints those heartbeats' latency (p50/p99/max) during the audits beside a baseline without them,
// each audit's time and size, and the process's peak RSS. Audits refused with 503 (the concurrency
// cap) are retried after Retry-After until all six have been read to the end.
//   npm run bench:audit -- [--events 600000] [--dir data/bench-audit] [--concurrency 2]
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { buildApp } from '../src/api/app.js';
import { signToken } from '../src/api/auth.js';
import { systemClock, uuidV7Generator, virtualClock } from '../src/commands/clock.js';
import { encode, miningCodec } from '../src/commands/codec.js';
import { createCommandHandler } from '../src/commands/handler.js';
import { streamOf, type MiningEvent } from '../src/domain/events.js';
import { toIso } from '../src/domain/time.js';
import { auditStream } from '../src/projections/ledger/audit.js';
import { startProjector } from '../src/projections/projector/projector.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';

const ACCOUNT = 'long-stream';
const SECRET = Buffer.from('bench-audit-secret-that-is-long-enough-0123');
const OTHERS = 16;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** One account: sessions of 1,000 events (start, heartbeats 30 s apart, a user stop). */
async function generate(path: string, total: number): Promise<void> {
  const store = await openSqliteStore({ codec: miningCodec, path });
  const clock = virtualClock(Date.UTC(2024, 0, 1));
  const ids = uuidV7Generator(clock);
  const context = { actor: { kind: 'user' as const, id: ACCOUNT }, correlationId: 'bench-audit' };
  let revision: bigint | 'no_stream' = 'no_stream';
  let sessionId = '';
  let inSession = 0;
  for (let written = 0; written < total;) {
    const batch = [];
    for (let i = 0; i < 2000 && written < total; i++, written++) {
      const at = toIso(clock.advance(30_000));
      let event: MiningEvent;
      if (inSession === 0) {
        sessionId = ids.next();
        event = { type: 'MiningStarted', data: { sessionId, accountId: ACCOUNT, at, rateUnitsPerHour: '25000000', heartbeatTimeoutMs: 300_000, maxSessionMs: 0 } };
      } else if (inSession === 999 || written === total - 1) {
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

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

function summary(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  return `${sorted.length} heartbeats, p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? NaN).toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const events = Number(option('events', '600000'));
  const concurrency = Number(option('concurrency', '2'));
  const dir = resolve(option('dir', 'data/bench-audit'));
  const storePath = join(dir, `events-${events}.db`);
  if (!existsSync(storePath)) {
    process.stdout.write(`generating ${events} events for one account in ${storePath} …\n`);
    await generate(storePath, events);
  }
  process.stdout.write(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores\n`);
  const store = await openSqliteStore({ codec: miningCodec, path: storePath });
  const projector = await startProjector({ store, readModelPath: join(dir, `read-${events}.db`) });
  await projector.caughtUp;
  const settings = { rateUnitsPerHour: 25_000_000n, heartbeatTimeoutMs: 300_000, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: 2000 };
  const handler = createCommandHandler({ store, clock: systemClock, ids: uuidV7Generator(systemClock), settings: () => settings });
  const app = await buildApp({
    settings: { heartbeatIntervalMs: 30_000, commandRateLimitPerMinute: 0, auditConcurrency: concurrency },
    store, handler, readModel: projector.readModel, clock: systemClock, secret: SECRET, registry: new Registry(),
    audit: (accountId) => auditStream({ store, readModel: projector.readModel, accountId }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const token = (claims: { sub?: string; role?: 'auditor' }) => `Bearer ${signToken({ ...claims, ttlSeconds: 3600 }, SECRET, Date.now())}`;
  const others = Array.from({ length: OTHERS }, (_, i) => ({ id: `other-${i}`, auth: token({ sub: `other-${i}` }) }));
  for (const o of others) await fetch(`${base}/v1/accounts/${o.id}/mining/start`, { method: 'POST', headers: { authorization: o.auth } });

  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  /** Each other account sends a heartbeat, waits 100 ms, again, until `done()`; latencies in ms. */
  async function heartbeats(done: () => boolean): Promise<number[]> {
    const latencies: number[] = [];
    await Promise.all(others.map(async (o) => {
      while (!done()) {
        const began = performance.now();
        const res = await fetch(`${base}/v1/accounts/${o.id}/mining/heartbeat`, { method: 'POST', headers: { authorization: o.auth } });
        await res.arrayBuffer();
        latencies.push(performance.now() - began);
        if (res.status !== 200) throw new Error(`heartbeat answered ${res.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }));
    return latencies;
  }

  const baselineEnd = performance.now() + 5000;
  const baseline = await heartbeats(() => performance.now() > baselineEnd);

  const auditor = token({ role: 'auditor' });
  let refused = 0;
  async function audit(): Promise<{ seconds: number; bytes: number }> {
    const began = performance.now();
    for (;;) {
      const res = await fetch(`${base}/v1/accounts/${ACCOUNT}/audit`, { headers: { authorization: auditor } });
      if (res.status === 503) {
        refused++;
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
        continue;
      }
      if (res.status !== 200) throw new Error(`audit answered ${res.status}`);
      let bytes = 0;
      for await (const chunk of res.body!) bytes += (chunk as Uint8Array).length;
      return { seconds: (performance.now() - began) / 1000, bytes };
    }
  }
  let auditsDone = false;
  peakRss = 0;
  const during = heartbeats(() => auditsDone);
  const auditsBegan = performance.now();
  const audits = await Promise.all(Array.from({ length: 6 }, () => audit()));
  const auditsSeconds = (performance.now() - auditsBegan) / 1000;
  auditsDone = true;
  const latencies = await during;
  clearInterval(rssTimer);

  process.stdout.write(`account ${ACCOUNT}: ${events} events; AUDIT_CONCURRENCY ${concurrency}\n`);
  process.stdout.write(`baseline, no audit running: ${summary(baseline)}\n`);
  process.stdout.write(`during six audits (${auditsSeconds.toFixed(1)} s, ${refused} answers 503 then retried): ${summary(latencies)}\n`);
  for (const [i, a] of audits.entries()) process.stdout.write(`  audit ${i + 1}: ${a.seconds.toFixed(1)} s incl. waiting, ${(a.bytes / 1e6).toFixed(1)} MB streamed\n`);
  process.stdout.write(`peak RSS of the server process during the audits: ${(peakRss / 2 ** 20).toFixed(0)} MB\n`);
  const p99 = percentile([...latencies].sort((a, b) => a - b), 99);
  process.stdout.write(`goal: other accounts' heartbeat p99 < 100 ms during the audits -> ${p99 < 100 ? 'met' : 'NOT met'} (shared machine: noisy)\n`);
  await app.close();
  await projector.stop();
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:audit failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
