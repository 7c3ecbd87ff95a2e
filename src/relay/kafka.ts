// Kafka adapter of the relay's Publisher port: an idempotent producer, acks from all replicas.
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { Publisher, RelayMessage } from './relay.js';

export interface KafkaPublisherOptions {
  brokers: string[];
  topic: string;
  clientId?: string;
}

export async function kafkaPublisher(options: KafkaPublisherOptions): Promise<Publisher> {
  const kafka = new Kafka({ clientId: options.clientId ?? 'mining-ledger-relay', brokers: options.brokers, logLevel: logLevel.WARN });
  // Idempotence needs at most one request in flight per partition to keep order under retries.
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
  await producer.connect();
  return {
    async publish(messages: RelayMessage[]) {
      await producer.send({
        topic: options.topic,
        acks: -1,
        messages: messages.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })),
      });
    },
    async close() {
      await producer.disconnect();
    },
  };
}
