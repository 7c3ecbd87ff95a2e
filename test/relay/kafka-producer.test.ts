// The Kafka adapter without a broker: kafkajs' own error classes and error table, a producer that
// fails the way kafkajs' does, and the relay on top of it.
import t from 'tap';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import kafkajs, { type Producer, type ProducerRecord } from 'kafkajs';
import { Registry } from 'prom-client';
import { createCommandHandler } from '../../src/commands/handler.js';
import { uuidV7Generator, virtualClock } from '../../src/commands/clock.js';
import { sqliteCheckpoint } from '../../src/relay/checkpoint.js';
import { deadProducerReason, kafkaPublisher } from '../../src/relay/kafka.js';
import { PublisherResetError, startRelay } from '../../src/relay/relay.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { miningCodec } from '../../src/commands/codec.js';

const { KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError } = kafkajs;
// Its typings omit the options argument that kafkajs' retrier passes ({ cause }).
const KafkaJSNonRetriableError = kafkajs.KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error;
// The broker's error codes as kafkajs decodes them from a produce response.
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
  createErrorFromCode(code: number): InstanceType<typeof kafkajs.KafkaJSProtocolError>;
};
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const INVALID_PRODUCER_EPOCH = 47;
const UNKNOWN_PRODUCER_ID = 59;
const NOT_LEADER_FOR_PARTITION = 6;

t.test('the broker errors that make a producer useless are recognised, also when kafkajs wrapped them', async (t) => {
  t.equal(deadProducerReason(createErrorFromCode(UNKNOWN_PRODUCER_ID)), 'UNKNOWN_PRODUCER_ID');
  t.equal(deadProducerReason(createErrorFromCode(OUT_OF_ORDER_SEQUENCE_NUMBER)), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
  t.equal(deadProducerReason(createErrorFromCode(INVALID_PRODUCER_EPOCH)), 'INVALID_PRODUCER_EPOCH');
  const cause = createErrorFromCode(OUT_OF_ORDER_SEQUENCE_NUMBER);
  t.equal(deadProducerReason(new KafkaJSNonRetriableError(cause, { cause })), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
  t.equal(deadProducerReason(new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 3000, cause } as never)), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
  t.equal(deadProducerReason(createErrorFromCode(NOT_LEADER_FOR_PARTITION)), undefined, 'a retriable leader change is not');
  t.equal(deadProducerReason(new KafkaJSConnectionError('Connection error: ECONNREFUSED')), undefined);
  t.equal(deadProducerReason('not an error'), undefined);
});

/** Producers that record what they sent; the first `dead` sends of the first producer fail with `error`. */
function producers(failures: { error: () => Error; count: number }) {
  const made: { sent: ProducerRecord[]; connects: number; disconnects: number }[] = [];
  let failuresLeft = failures.count;
  const create = () => {
    const index = made.length;
    const record = { sent: [] as ProducerRecord[], connects: 0, disconnects: 0 };
    made.push(record);
    return {
      connect: async () => void record.connects++,
      disconnect: async () => void record.disconnects++,
      send: async (sent: ProducerRecord) => {
        if (index === 0 && failuresLeft > 0) {
          failuresLeft--;
          throw failures.error();
        }
        record.sent.push(sent);
        return [];
      },
    } as unknown as Producer;
  };
  return { made, create };
}

const message = (n: number) => ({
  key: 'alice', value: `{"n":${n}}`,
  headers: { 'event-id': `id-${n}`, 'event-type': 'Heartbeat', position: String(n), stream: 'mining-alice', revision: String(n - 1) },
});

t.test('a producer the broker no longer knows is dropped and the batch goes out through a new one', async (t) => {
  const { made, create } = producers({ error: () => createErrorFromCode(OUT_OF_ORDER_SEQUENCE_NUMBER), count: 1 });
  const publisher = await kafkaPublisher({ brokers: ['127.0.0.1:1'], topic: 'mining.events', createProducer: create });
  const error = await publisher.publish([message(1)]).then(() => undefined, (e: unknown) => e);
  t.type(error, PublisherResetError);
  t.equal((error as PublisherResetError).reason, 'OUT_OF_ORDER_SEQUENCE_NUMBER');
  t.equal(made[0]!.disconnects, 1, 'the dead producer is disconnected');
  await publisher.publish([message(1)]);
  t.equal(made.length, 2, 'a second producer was made');
  t.equal(made[1]!.connects, 1);
  t.same(made[1]!.sent.map((s) => s.messages.map((m) => m.headers!['event-id'])), [['id-1']]);
  t.equal(made[0]!.sent.length, 0, 'nothing went through the dead producer');
  await publisher.close();
  t.equal(made[1]!.disconnects, 1);
  await t.rejects(publisher.publish([message(2)]), /closed/);
});

t.test('other send failures keep the producer: its sequence numbers are still the broker\'s', async (t) => {
  const { made, create } = producers({ error: () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('ECONNREFUSED'), { retryCount: 5, retryTime: 3000 } as never), count: 1 });
  const publisher = await kafkaPublisher({ brokers: ['127.0.0.1:1'], topic: 't', createProducer: create });
  await t.rejects(publisher.publish([message(1)]), { name: 'KafkaJSNumberOfRetriesExceeded' });
  await publisher.publish([message(1)]);
  t.equal(made.length, 1);
  t.equal(made[0]!.sent.length, 1);
  await publisher.close();
});

async function seeded(dir: string) {
  const store = await openSqliteStore({ codec: miningCodec, path: join(dir, 'events.db') });
  const clock = virtualClock(Date.UTC(2026, 0, 1, 8));
  const handler = createCommandHandler({
    store, clock, ids: uuidV7Generator(clock),
    settings: () => ({ rateUnitsPerHour: 25_000_000n, heartbeatTimeoutMs: 300_000, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: 0 }),
  });
  const actor = { actor: { kind: 'user' as const, id: 'test' }, correlationId: 'c-1' };
  for (const account of ['alice', 'bob', 'carol']) {
    await handler.execute(account, { type: 'start' }, actor);
    clock.advance(30_000);
    await handler.execute(account, { type: 'heartbeat' }, actor);
  }
  return { store, clock };
}

t.test('the relay re-sends a batch refused with UNKNOWN_PRODUCER_ID through a new producer, and counts it', async (t) => {
  const dir = t.testdir();
  const { store, clock } = await seeded(dir);
  // Every send through the first producer would fail; the relay must not keep retrying through it.
  const { made, create } = producers({ error: () => createErrorFromCode(UNKNOWN_PRODUCER_ID), count: Infinity });
  const publisher = await kafkaPublisher({ brokers: ['127.0.0.1:1'], topic: 'mining.events', createProducer: create });
  const registry = new Registry();
  const waits: number[] = [];
  const relay = startRelay({
    store, publisher, checkpoint: sqliteCheckpoint(join(dir, 'relay.db')), registry, clock,
    backoff: async (attempt) => void waits.push(attempt),
  });
  await relay.caughtUp;
  t.same(waits, [1], 'one failed attempt, then the new producer took the batch');
  t.equal(made.length, 2);
  const sent = made[1]!.sent.flatMap((s) => s.messages.map((m) => String(m.headers!.position)));
  t.same(sent, ['1', '2', '3', '4', '5', '6']);
  const text = await registry.metrics();
  t.match(text, /mining_relay_failures_total\{kind="producer_reset"\} 1\b/);
  t.match(text, /mining_relay_failures_total\{kind="publish"\} 0\b/);
  t.match(text, /mining_relay_events_published_total 6\b/);
  t.match(text, /mining_relay_position 6\b/);
  t.match(text, /mining_relay_lag_positions 0\b/);
  await relay.stop();
  await store.close();
});

t.test('a send still in flight when the publisher closes disconnects its producer once it settles', async (t) => {
  let finish!: () => void;
  let disconnects = 0;
  const producer = {
    connect: async () => undefined,
    disconnect: async () => void disconnects++,
    send: () => new Promise<void>((resolve) => (finish = resolve)),
  } as unknown as Producer;
  const publisher = await kafkaPublisher({ brokers: ['127.0.0.1:1'], topic: 't', createProducer: () => producer });
  const pending = publisher.publish([message(1)]);
  await publisher.close();
  t.equal(disconnects, 1);
  finish();
  await pending;
  t.equal(disconnects, 2, 'disconnected again after the late send');
});
