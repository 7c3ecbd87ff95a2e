// The auditor's workbench, measured: the hash-chain step per event (what a heartbeat pays), and a
// checkpoint plus its verification over N events in one store (time, peak RSS, tree nodes held).
// `npm run build && node dist/bench/chain.js [events]` (default 1,000,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { chainMetadata } from '../src/audit/chain.js';
import { parseCheckpoints, takeCheckpoint, verifyCheckpoints } from '../src/audit/checkpoint.js';
import { encode } from '../src/commands/codec.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { toIso } from '../src/domain/time.js';

const events = Number(process.argv[2] ?? 1_000_000);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function hashStep(): void {
  const data = { sessionId: '0190f0e0-0000-7000-8000-000000000001', at: '2026-03-01T10:00:00.000Z' };
  const metadata = { schemaVersion: 1, recordedAt: data.at, correlationId: 'req-1234', actor: { kind: 'user' as const, id: 'alice' } };
  let prev: string | null = null;
  const n = 200_000;
  for (let i = 0; i < 10_000; i++) prev = chainMetadata('mining-alice', BigInt(i), 'Heartbeat', data, metadata, prev).hash;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) prev = chainMetadata('mining-alice', BigInt(i), 'Heartbeat', data, metadata, prev).hash;
  const perEvent = Number(process.hrtime.bigint() - t0) / n / 1000;
  const cpu = process.cpuUsage(cpu0);
  // CPU time too: on a shared machine the wall clock also counts other people's work.
  console.log(`hash chain step (canonicalize + SHA-256 of a heartbeat): ${perEvent.toFixed(2)} µs wall, ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU per event`);
}

async function checkpoints(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
  try {
    const store = await openSqliteStore({ path: join(dir, 'events.db') });
    const context = { actor: { kind: 'user' as const, id: 'bench' }, correlationId: 'bench' };
    const streams = 1000;
    const revisions = new Array<bigint>(streams).fill(-1n);
    const hashes = new Array<string | null>(streams).fill(null);
    const sessionId = '0190f0e0-0000-7000-8000-000000000001';
    const t0 = Date.now();
    for (let written = 0; written < events;) {
      const s = (written / 1000) % streams;
      const stream = `mining-bench${s}`;
      const batch = [];
      for (let k = 0; k < 1000 && written < events; k++, written++) {
        const at = toIso(Date.UTC(2026, 0, 1) + written * 30);
        const event = revisions[s] === -1n && k === 0
          ? { type: 'MiningStarted' as const, data: { sessionId, accountId: `bench${s}`, at, rateUnitsPerHour: '25000000', heartbeatTimeoutMs: 300000, maxSessionMs: 0 } }
          : { type: 'Heartbeat' as const, data: { sessionId, at } };
        const revision = revisions[s]! + 1n + BigInt(k);
        const encoded = encode(event, `0190f0e0-0000-7000-9000-${String(written).padStart(12, '0')}`, at, context, { stream, revision, prevHash: hashes[s]! });
        hashes[s] = (encoded.metadata as { hash: string }).hash;
        batch.push(encoded);
      }
      const result = await store.append(stream, batch, revisions[s] === -1n ? 'no_stream' : revisions[s]!);
      revisions[s] = result.nextExpectedRevision;
    }
    console.log(`wrote ${events} chained events in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const key = generateKeyPairSync('ed25519');
    const rssBefore = process.memoryUsage().rss;
    const t1 = Date.now();
    const cpu1 = process.cpuUsage();
    const checkpoint = await takeCheckpoint(store, key, Date.now());
    const cpuCheckpoint = process.cpuUsage(cpu1);
    console.log(`checkpoint over ${checkpoint.size} events: ${((Date.now() - t1) / 1000).toFixed(1)} s wall, ${((cpuCheckpoint.user + cpuCheckpoint.system) / 1e6).toFixed(1)} s CPU`);
    const t2 = Date.now();
    const cpu2 = process.cpuUsage();
    const findings = await verifyCheckpoints(store, parseCheckpoints(JSON.stringify(checkpoint)), key.publicKey);
    const cpuVerify = process.cpuUsage(cpu2);
    console.log(`verify --checkpoints' check over ${checkpoint.size} events: ${((Date.now() - t2) / 1000).toFixed(1)} s wall, ${((cpuVerify.user + cpuVerify.system) / 1e6).toFixed(1)} s CPU, problems: ${findings.filter((f) => f.problem).length}`);
    console.log(`RSS before the checkpoint ${mib(rssBefore)}, now ${mib(process.memoryUsage().rss)}, peak ${mib(process.resourceUsage().maxRSS * 1024)}`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

hashStep();
await checkpoints();
