// Kafka adapter of the relay's Publisher port: an idempotent producer, acks from all replicas.
// kafkajs treats a producer the broker no longer knows as fatal and would fail every later send
// through it; this adapter drops such a producer and makes a new one (new id, sequences from 0).
import kafkajs, { type Kafka as KafkaClient, type LogEntry, type Producer } from 'kafkajs';
import type { Logger } from '../config/logger.js';
import { PublisherResetError, type Publisher, type RelayMessage } from './relay.js';

// kafkajs is CommonJS and spreads its error classes into its exports, which Node's ESM loader cannot see by name.
const { Kafka, KafkaJSProtocolError, logLevel } = kafkajs;

/**
 * Broker answers after which the producer's id, epoch or sequence numbers are no longer valid:
 * every retry through the same producer gets the same answer.
 */
export const DEAD_PRODUCER_ERRORS: ReadonlySet<string> = new Set([
  'UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING',
]);

/** The broker error type when `error` (or what kafkajs wrapped in it) means the producer is dead. */
export function deadProducerReason(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof KafkaJSProtocolError && DEAD_PRODUCER_ERRORS.has(current.type)) return current.type;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface KafkaPublisherOptions {
  brokers: string[];
  topic: string;
  clientId?: string;
  /**
   * Attempts kafkajs makes inside one send (default 5, about 10 s against a broker that is down)
   * before the relay's own backoff takes over: a send that returns lets stop() and metrics see it.
   */
  sendRetries?: number;
  logger?: Logger;
  /** Makes a producer; tests pass one whose sends fail the way a broker's would. */
  createProducer?: (kafka: KafkaClient) => Producer;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
};

/** kafkajs' log lines through the service's logger rather than its own console output. */
function logCreator(logger: Logger | undefined) {
  return () => ({ level, log }: LogEntry) => {
    const { message, ...fields } = log;
    logger?.[LEVELS[level] ?? 'info']({ kafkajs: fields }, `kafkajs: ${message}`);
  };
}

export async function kafkaPublisher(options: KafkaPublisherOptions): Promise<Publisher> {
  const kafka = new Kafka({
    clientId: options.clientId ?? 'mining-ledger-relay',
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: logCreator(options.logger),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
  });
  const create = options.createProducer ?? ((k: KafkaClient) => k.producer({
    // Idempotence needs at most one request in flight per partition to keep order under retries.
    idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true,
    // kafkajs warns that bounded retries may weaken exactly-once; the relay promises at least once
    // and sends the very same batch again, which the broker de-duplicates while the producer lives.
    retry: { retries: options.sendRetries ?? 5, initialRetryTime: 300, maxRetryTime: 3000 },
  }));
  let producer: Producer | undefined = create(kafka);
  await producer.connect();
  let closed = false;

  async function live(): Promise<Producer> {
    if (closed) throw new Error('Kafka publisher is closed');
    if (!producer) {
      const fresh = create(kafka);
      await fresh.connect();
      producer = fresh;
    }
    return producer;
  }

  return {
    async publish(messages: RelayMessage[]) {
      const current = await live();
      try {
        await current.send({
          topic: options.topic,
          acks: -1,
          messages: messages.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })),
        });
      } catch (error) {
        const reason = deadProducerReason(error);
        if (!reason) throw error;
        // Retrying through this producer would fail forever; the next publish makes a new one.
        if (producer === current) producer = undefined;
        await current.disconnect().catch(() => undefined);
        throw new PublisherResetError(reason, { cause: error });
      } finally {
        // A send that outlived close() may have reconnected the client while it retried: close it again,
        // or its sockets keep a stopped relay's process alive.
        if (closed) await current.disconnect().catch(() => undefined);
      }
    },
    async close() {
      closed = true;
      await producer?.disconnect();
      producer = undefined;
    },
  };
}
