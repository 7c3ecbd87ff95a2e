// The relay against a real Kafka broker, when TEST_KAFKA_BROKERS is set (.ci/setup.d/30-kafka.sh starts
// one; see docs/relay.md); skipped otherwise. What the relay wrote is read back by an independent
// client: kcat when it is installed, else kafkajs' consumer. The broker-restart test also needs
// TEST_KAFKA_CONTROL (a script taking start|stop|restart). The tests run in order: the restart is last.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { createCommandHandler, type CommandHandler } from '../../src/commands/handler.js';
import { uuidV7Generator, virtualClock, type VirtualClock } from '../../src/commands/clock.js';
import { sqliteCheckpoint } from '../../src/relay/checkpoint.js';
import { kafkaPublisher } from '../../src/relay/kafka.js';
import { startRelay } from '../../src/relay/relay.js';
import { openSqliteStore, type SqliteEventStore } from '../../src/store/sqlite/store.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { exited, spawnTs } from '../projections/fixtures/spawn.js';
import { miningCodec, type MiningRecord } from '../../src/commands/codec.js';

const run = promisify(execFile);
const brokers = (process.env.TEST_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const control = process.env.TEST_KAFKA_CONTROL;

interface Received {
  key: string;
  partition: number;
  offset: number;
  headers: Record<string, string>;
  value: { id: string; type: string; position: string; stream: string; revision: string };
}

let kcat: boolean | undefined;
async function hasKcat(): Promise<boolean> {
  return (kcat ??= await run('kcat', ['-V']).then(() => true, () => false));
}

/** Everything in the topic, from the beginning, by kcat (JSON lines) or by a fresh kafkajs consumer group. */
async function readTopic(topic: string, expected: number): Promise<Received[]> {
  if (await hasKcat()) {
    const { stdout } = await run('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-J'], { maxBuffer: 256 << 20 });
    return stdout.split('\n').filter(Boolean).map((line) => {
      const m = JSON.parse(line) as { key: string; partition: number; offset: number; headers?: string[]; payload: string };
      const headers: Record<string, string> = {};
      for (let i = 0; i + 1 < (m.headers ?? []).length; i += 2) headers[m.headers![i]!] = m.headers![i + 1]!;
      return { key: m.key, partition: m.partition, offset: m.offset, headers, value: JSON.parse(m.payload) };
    });
  }
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `${topic}.check.${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received: Received[] = [];
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(resolve, 30_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        received.push({ key: message.key!.toString(), partition, offset: Number(message.offset), headers, value: JSON.parse(message.value!.toString()) });
        if (received.length >= expected) {
          clearTimeout(deadline);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return received;
}

const settings = () => ({ rateUnitsPerHour: 25_000_000n, heartbeatTimeoutMs: 300_000, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: 0 });
const actor = { actor: { kind: 'user' as const, id: 'kafka-test' }, correlationId: 'kafka' };

async function world(dir: string) {
  const store = await openSqliteStore({ codec: miningCodec, path: join(dir, 'events.db') });
  const clock = virtualClock(Date.UTC(2026, 0, 1, 8));
  const handler = createCommandHandler({ store, clock, ids: uuidV7Generator(clock), settings });
  return { store, clock, handler };
}

/** One round of commands: every account starts (first round) or sends a heartbeat. */
async function round(handler: CommandHandler, clock: VirtualClock, accounts: string[], first: boolean) {
  clock.advance(30_000);
  await Promise.all(accounts.map((a) => handler.execute(a, { type: first ? 'start' : 'heartbeat' }, actor)));
}

async function allEvents(store: SqliteEventStore<MiningRecord>): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll({ prefix: 'mining-' })) events.push(event);
  return events;
}

/**
 * What a consumer must be able to rely on: every stored event is there, with headers that match its
 * value, keyed by account; per key, apart from re-sent duplicates, positions only go up.
 */
function checkDelivery(t: Test, stored: RecordedEvent[], received: Received[]) {
  const ids = new Set(received.map((m) => m.headers['event-id']));
  const missing = stored.filter((e) => !ids.has(e.id));
  t.same(missing.map((e) => e.position.toString()), [], 'every stored event is in the topic');
  const byId = new Map(stored.map((e) => [e.id, e]));
  const wrong = received.filter((m) => {
    const event = byId.get(m.headers['event-id']!);
    return !event || m.key !== event.stream.slice('mining-'.length) || m.value.id !== event.id ||
      m.headers['event-type'] !== event.type || m.value.type !== event.type ||
      m.headers.position !== event.position.toString() || m.value.position !== event.position.toString() ||
      m.headers.stream !== event.stream || m.headers.revision !== event.revision.toString();
  });
  t.same(wrong, [], 'key, headers and value agree with the stored event');
  const perKey = new Map<string, Received[]>();
  for (const m of [...received].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    perKey.set(m.key, [...(perKey.get(m.key) ?? []), m]);
  }
  const disorder: string[] = [];
  for (const [key, messages] of perKey) {
    const seen = new Set<string>();
    let last = 0n;
    for (const m of messages) {
      if (seen.has(m.headers['event-id']!)) continue;
      seen.add(m.headers['event-id']!);
      const position = BigInt(m.headers.position!);
      if (position <= last) disorder.push(`${key}: ${position} after ${last}`);
      last = position;
    }
  }
  t.same(disorder, [], 'per key, first deliveries are in position order');
}

function duplicates(received: Received[]): bigint[] {
  const counts = new Map<string, number>();
  for (const m of received) counts.set(m.headers.position!, (counts.get(m.headers.position!) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([p]) => BigInt(p)).sort((a, b) => (a < b ? -1 : 1));
}

function checkpointOf(path: string): bigint {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare<[], { position: string }>("SELECT position FROM checkpoints WHERE name = 'relay'").get();
    return row ? BigInt(row.position) : 0n;
  } catch {
    return 0n;
  } finally {
    db.close();
  }
}

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 120_000) => {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

if (brokers.length === 0) {
  t.comment('SKIPPED: Kafka relay suite — set TEST_KAFKA_BROKERS (bash .ci/setup.d/30-kafka.sh, or docker compose up -d kafka) to run it');
  t.skip('Kafka relay suite against a real broker (needs TEST_KAFKA_BROKERS)', () => {});
} else {
  // Real processes, a broker restart and a crash on a shared 2-core machine take minutes, not the default 120 s.
  t.setTimeout(600_000);
  t.comment(`Kafka suite on ${brokers.join(',')}; reading back with kcat if installed, else kafkajs' consumer`);

  t.test('every event reaches the topic once, keyed by account, with its headers, in order per key', async (t) => {
    const dir = t.testdir();
    const { store, clock, handler } = await world(dir);
    const accounts = Array.from({ length: 12 }, (_, i) => `acct-${i}`);
    for (let r = 0; r < 6; r++) await round(handler, clock, accounts, r === 0);
    const topic = `mining.events.test.${Date.now()}.a`;
    const registry = new Registry();
    const relay = startRelay({
      store, publisher: await kafkaPublisher({ brokers, topic }), checkpoint: sqliteCheckpoint(join(dir, 'relay.db')),
      batchSize: 10, registry, clock,
    });
    await relay.caughtUp;
    // Live events after the backlog follow too.
    await round(handler, clock, accounts, false);
    const stored = await allEvents(store);
    await until('the relay to publish the live round', () => relay.published() === stored.length);
    const received = await readTopic(topic, stored.length);
    t.equal(stored.length, 84);
    t.equal(received.length, stored.length, `${received.length} messages read back (${(await hasKcat()) ? 'kcat' : 'kafkajs consumer'})`);
    checkDelivery(t, stored, received);
    t.same(duplicates(received), [], 'no duplicates without a crash');
    t.match(await registry.metrics(), /mining_relay_events_published_total 84\b/);
    await relay.stop();
    await store.close();
  });

  t.test('a relay process killed with SIGKILL mid-stream and started again: no gap, duplicates only from its last unacknowledged batch', async (t) => {
    const dir = t.testdir();
    const { store, clock, handler } = await world(dir);
    const accounts = Array.from({ length: 50 }, (_, i) => `acct-${i}`);
    for (let r = 0; r < 20; r++) await round(handler, clock, accounts, r === 0);
    const stored = await allEvents(store);
    const head = stored[stored.length - 1]!.position;
    const topic = `mining.events.test.${Date.now()}.kill`;
    const batchSize = 25;
    const env = {
      EVENT_STORE_URL: `sqlite:${join(dir, 'events.db')}`, DATA_DIR: dir, KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC: topic, LOG_LEVEL: 'warn',
    };
    const checkpointFile = join(dir, 'relay.db');
    const first = spawnTs('./cli.ts', ['relay', '--batch-size', String(batchSize)], env);
    const firstExit = exited(first);
    await until('the first relay to checkpoint a few batches', async () => {
      try {
        return checkpointOf(checkpointFile) >= 200n;
      } catch {
        return false;
      }
    });
    first.kill('SIGKILL');
    t.equal((await firstExit).signal, 'SIGKILL');
    const killedAt = checkpointOf(checkpointFile);
    t.ok(killedAt > 0n && killedAt < head, `killed mid-stream at checkpoint ${killedAt} of ${head}`);

    const second = spawnTs('./cli.ts', ['relay', '--batch-size', String(batchSize)], env);
    const secondExit = exited(second);
    await until('the second relay to reach the head', () => checkpointOf(checkpointFile) === head);
    second.kill('SIGTERM');
    const ended = await secondExit;
    t.equal(ended.code, 0, `the relay exits 0 on SIGTERM ${ended.stderr}`);

    const received = await readTopic(topic, stored.length);
    checkDelivery(t, stored, received);
    const repeated = duplicates(received);
    t.ok(repeated.every((p) => p > killedAt && p <= killedAt + BigInt(batchSize)),
      `duplicates (${repeated.length}) lie within the batch after checkpoint ${killedAt}: ${repeated.join(',')}`);
    t.equal(received.length, stored.length + repeated.length);
    await store.close();
  });

  const failuresOf = async (registry: Registry, kind: string) =>
    Number(/(\d+)$/.exec((await registry.metrics()).split('\n').find((l) => l.startsWith(`mining_relay_failures_total{kind="${kind}"}`)) ?? '0')?.[1] ?? 0);

  t.test('the broker restarts, and crashes and stays down, under load: the relay resumes and loses nothing', { skip: control ? false : 'needs TEST_KAFKA_CONTROL to restart the broker' }, async (t) => {
    const dir = t.testdir();
    const { store, clock, handler } = await world(dir);
    const accounts = Array.from({ length: 10 }, (_, i) => `acct-${i}`);
    await round(handler, clock, accounts, true);
    const topic = `mining.events.test.${Date.now()}.restart`;
    const registry = new Registry();
    const relay = startRelay({
      store, publisher: await kafkaPublisher({ brokers, topic }), checkpoint: sqliteCheckpoint(join(dir, 'relay.db')),
      batchSize: 20, registry, clock, backoff: (attempt) => new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempt))),
    });
    await relay.caughtUp;
    let writing = true;
    const load = (async () => {
      while (writing) {
        await round(handler, clock, accounts, false);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const storedNow = async () => (await allEvents(store)).length;
    await until('some events published before the restart', () => relay.published() > 30);

    // A clean restart (SIGTERM, start again on the same port and log).
    const beforeRestart = await storedNow();
    await run(control!, ['restart'], { timeout: 120_000 });
    t.ok((await storedNow()) > beforeRestart, 'commands were appended while the broker restarted');
    let mark = relay.published();
    await until('events published after the restart', () => relay.published() > mark + 30);

    // A crash that lasts longer than kafkajs' own retries: the relay's failure counter moves, then it resumes.
    await run(control!, ['kill'], { timeout: 60_000 });
    await until('the relay to report a failed publish', async () => (await failuresOf(registry, 'publish')) + (await failuresOf(registry, 'producer_reset')) > 0);
    await run(control!, ['start'], { timeout: 120_000 });
    mark = relay.published();
    await until('events published after the crash', () => relay.published() > mark + 30);

    writing = false;
    await load;
    const stored = await allEvents(store);
    await until('the relay to publish everything', () => relay.published() >= stored.length);
    const received = await readTopic(topic, stored.length);
    checkDelivery(t, stored, received);
    t.comment(`stored ${stored.length}, read back ${received.length}, duplicates ${duplicates(received).length}; ` +
      `publish failures ${await failuresOf(registry, 'publish')}, producer resets ${await failuresOf(registry, 'producer_reset')}`);
    await relay.stop();
    await store.close();
  });

  t.test('stop() returns within its grace period while the broker is down, and checkpoints nothing unacknowledged', { skip: control ? false : 'needs TEST_KAFKA_CONTROL to stop the broker' }, async (t) => {
    const dir = t.testdir();
    const { store, clock, handler } = await world(dir);
    const accounts = Array.from({ length: 5 }, (_, i) => `acct-${i}`);
    await round(handler, clock, accounts, true);
    const topic = `mining.events.test.${Date.now()}.stop`;
    const relay = startRelay({
      store, publisher: await kafkaPublisher({ brokers, topic }), checkpoint: sqliteCheckpoint(join(dir, 'relay.db')), stopGraceMs: 2000,
    });
    await relay.caughtUp;
    const acknowledged = relay.published();
    await run(control!, ['stop'], { timeout: 60_000 });
    try {
      await round(handler, clock, accounts, false);
      // The publish of this round is now stuck in kafkajs' retries against a broker that is gone.
      await new Promise((r) => setTimeout(r, 500));
      const stopped = await Promise.race([relay.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
      t.equal(stopped, 'stopped', 'stop() returned');
      t.equal(relay.published(), acknowledged, 'nothing more counted as published');
      const checkpoint = sqliteCheckpoint(join(dir, 'relay.db'));
      t.equal(checkpoint.load(), BigInt(acknowledged), 'the checkpoint stays at the last acknowledged event');
      checkpoint.close();
    } finally {
      await run(control!, ['start'], { timeout: 120_000 });
    }
    await store.close();
  });
}
