// `relay`: publishes every event to Kafka (KAFKA_BROKERS, KAFKA_TOPIC), checkpointed, at least once.
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { systemClock } from '../commands/clock.js';
import { ConfigError } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { sqliteCheckpoint } from '../relay/checkpoint.js';
import { kafkaPublisher } from '../relay/kafka.js';
import { startRelay } from '../relay/relay.js';
import { openEventStore } from '../store/open.js';
import { rawCodec } from '../store/port.js';
import { integerFlag } from './args.js';
import { EXIT_OK, type CliCommand } from './command.js';
import { serveMetrics } from './sweeper.js';

export const command: CliCommand = {
  name: 'relay',
  summary: 'publishes every event to Kafka (key = accountId; event id, type and position as headers), checkpointed, at least once',
  usage: 'relay [--kafka-brokers host:port,...] [--kafka-topic name] [--metrics-port <port>] [--batch-size <n>]',
  flags: {
    'metrics-port': { type: 'string', value: '<port>', description: 'serve Prometheus metrics (mining_relay_*) on HOST:<port>/metrics' },
    'batch-size': { type: 'string', value: '<n>', description: 'events per Kafka send (default 500)' },
  },
  async run(context) {
    const metricsPort = integerFlag(context.args, 'metrics-port', undefined, 0, 65535);
    const batchSize = integerFlag(context.args, 'batch-size', 500, 1, 100_000);
    const config = context.config();
    if (config.kafkaBrokers.length === 0) throw new ConfigError('KAFKA_BROKERS is required for relay (e.g. localhost:9092)');
    const logger = createLogger(config.logLevel, 'relay');
    const store = await openEventStore(config.eventStoreUrl, { codec: rawCodec });
    const publisher = await kafkaPublisher({ brokers: config.kafkaBrokers, topic: config.kafkaTopic, logger });
    const registry = new Registry();
    const relay = startRelay({
      store, publisher, checkpoint: sqliteCheckpoint(join(config.dataDir, 'relay.db')), logger, registry, clock: systemClock, batchSize,
    });
    const server = metricsPort === undefined ? undefined : await serveMetrics(registry, config.host, metricsPort);
    logger.info({ brokers: config.kafkaBrokers, topic: config.kafkaTopic }, 'relay started');
    const signal = await context.stopSignal;
    logger.info({ signal, published: relay.published() }, 'relay stopping');
    await relay.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await store.close();
    return EXIT_OK;
  },
};
