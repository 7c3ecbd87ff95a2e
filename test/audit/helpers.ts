// Shared setup for the auditor's-workbench tests: a known history written by the real command
// handler, the CLI run in-process, and SQL run on the store's file behind its back.
import Database from 'better-sqlite3';
import tap, { type Test } from 'tap';
import { encode } from '../../src/commands/codec.js';
import { streamOf, type MiningEvent } from '../../src/domain/events.js';
import { toIso } from '../../src/domain/time.js';
import { runCli } from '../../src/cli/main.js';
import { capture, mine, world, type World } from '../projections/helpers.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(w: World, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const base = { EVENT_STORE_URL: w.eventStoreUrl, READ_MODEL_PATH: w.readModelPath, DATA_DIR: w.dir, LOG_LEVEL: 'silent' };
  const code = await runCli(argv, { env: { ...base, ...env }, stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const templates = new Map<string, Promise<string>>();

/** alice: the incident (a timeout after an hour); bob: a user stop. Written once per file, copied per test. */
export async function history(test: Test): Promise<World> {
  let template = templates.get('history');
  if (!template) {
    template = (async () => {
      const w = await world(tap);
      await mine(w, 'alice', 5, 'offline');
      await mine(w, 'bob', 2, 'stop');
      await w.store.close();
      return w.store.path;
    })();
    templates.set('history', template);
  }
  return world(test, { copyOf: await template });
}

/** Runs SQL on the store's file directly, as someone with write access to it would. */
export function tamperStore(path: string, sql: string): void {
  const db = new Database(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** The events of a stream as stored (position, revision, data, metadata), for building tampering SQL. */
export function storedEvents(path: string, stream: string): { position: number; revision: number; type: string; data: string; metadata: string }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT position, revision, type, data, metadata FROM events WHERE stream = ? ORDER BY revision').all(stream) as never;
  } finally {
    db.close();
  }
}

/**
 * Appends one long chained session straight to the store in batches (as the handler would chain
 * it, without a command and an fsync per event): a start and `beats` heartbeats 30 s apart, then a
 * user stop. Returns the position of the last event.
 */
export async function longChainedSession(w: World, accountId: string, beats: number, startMs: number): Promise<bigint> {
  const stream = streamOf(accountId);
  const sessionId = '0190f0e0-0000-7000-8000-00000000beef';
  const context = { actor: { kind: 'user' as const, id: accountId }, correlationId: 'long' };
  let revision = 0n;
  let prevHash: string | null = null;
  let position = 0n;
  let n = 0;
  const eventAt = (i: number): MiningEvent => {
    const at = toIso(startMs + i * 30_000);
    if (i === 0) return { type: 'MiningStarted', data: { sessionId, accountId, at, rateUnitsPerHour: '25000000', heartbeatTimeoutMs: 300_000, maxSessionMs: 0 } };
    if (i <= beats) return { type: 'Heartbeat', data: { sessionId, at } };
    return { type: 'MiningStopped', data: { sessionId, at, reason: 'user' } };
  };
  while (n < beats + 2) {
    const batch = [];
    for (let k = 0; k < 500 && n < beats + 2; k++, n++) {
      const event = eventAt(n);
      const encoded = encode(event, `0190f0e0-0000-7000-9000-${String(n).padStart(12, '0')}`, event.data.at, context, { stream, revision: revision++, prevHash });
      prevHash = (encoded.metadata as { hash: string }).hash;
      batch.push(encoded);
    }
    const result = await w.store.append(stream, batch, revision - BigInt(batch.length) === 0n ? 'no_stream' : revision - BigInt(batch.length) - 1n);
    position = result.position;
  }
  return position;
}
