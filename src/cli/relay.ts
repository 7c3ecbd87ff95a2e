// `relay`: publishes every event to Kafka (KAFKA_BROKERS, KAFKA_TOPIC), checkpointed, at least once.
import { join } from 'node:path';
import { ConfigError } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { sqliteCheckpoint } from '../relay/checkpoint.js';
import { kafkaPublisher } from '../relay/kafka.js';
import { startRelay } from '../relay/relay.js';
import { openEventStore } from '../store/open.js';
import { EXIT_OK, type CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'relay',
  summary: 'publishes every event to Kafka (key = accountId; event id, type and position as headers), checkpointed, at least once',
  usage: 'relay [--kafka-brokers host:port,...] [--kafka-topic name]',
  flags: {},
  async run(context) {
    const config = context.config();
    if (config.kafkaBrokers.length === 0) throw new ConfigError('KAFKA_BROKERS is required for relay (e.g. localhost:9092)');
    const logger = createLogger(config.logLevel, 'relay');
    const store = await openEventStore(config.eventStoreUrl);
    const publisher = await kafkaPublisher({ brokers: config.kafkaBrokers, topic: config.kafkaTopic });
    const relay = startRelay({ store, publisher, checkpoint: sqliteCheckpoint(join(config.dataDir, 'relay.db')), logger });
    logger.info({ brokers: config.kafkaBrokers, topic: config.kafkaTopic }, 'relay started');
    const signal = await context.stopSignal;
    logger.info({ signal, published: relay.published() }, 'relay stopping');
    await relay.stop();
    await store.close();
    return EXIT_OK;
  },
};
