// Runs against a real Kafka broker when TEST_KAFKA_BROKERS is set (see docs/relay.md); skipped otherwise.
import t from 'tap';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createCommandHandler } from '../../src/commands/handler.js';
import { uuidV7Generator, virtualClock } from '../../src/commands/clock.js';
import { sqliteCheckpoint } from '../../src/relay/checkpoint.js';
import { kafkaPublisher } from '../../src/relay/kafka.js';
import { startRelay } from '../../src/relay/relay.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';

const brokers = (process.env.TEST_KAFKA_BROKERS ?? '').split(',').filter(Boolean);

if (brokers.length === 0) {
  t.comment('SKIPPED: Kafka relay suite — set TEST_KAFKA_BROKERS=localhost:9092 (docker compose up -d kafka) to run it');
  t.pass('Kafka suite skipped: TEST_KAFKA_BROKERS is not set');
} else {
  t.test('events relayed to Kafka come back keyed by account with their headers', async (t) => {
    const dir = t.testdir();
    const topic = `mining.events.test.${Date.now()}`;
    const store = await openSqliteStore({ path: join(dir, 'events.db') });
    const clock = virtualClock();
    const handler = createCommandHandler({
      store, clock, ids: uuidV7Generator(clock),
      settings: () => ({ rateUnitsPerHour: 25_000_000n, heartbeatTimeoutMs: 300_000, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: 0 }),
    });
    await handler.execute('carol', { type: 'start' }, { actor: { kind: 'user', id: 'carol' }, correlationId: 'k' });
    const relay = startRelay({ store, publisher: await kafkaPublisher({ brokers, topic }), checkpoint: sqliteCheckpoint(join(dir, 'relay.db')) });
    await relay.caughtUp;
    const consumer = new Kafka({ brokers, logLevel: logLevel.WARN }).consumer({ groupId: `${topic}.check` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; type: string }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) =>
          resolve({ key: message.key!.toString(), type: message.headers!['event-type']!.toString() }),
      });
    });
    t.same(received, { key: 'carol', type: 'MiningStarted' });
    await consumer.disconnect();
    await relay.stop();
    await store.close();
  });
}
