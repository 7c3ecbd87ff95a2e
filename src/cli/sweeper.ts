// `mining-ledger sweeper [--shard i/n] [--metrics-port <port>]`: the sweeper alone. It builds its
// own command handler on the configured store and stops cleanly on SIGTERM/SIGINT.
import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import { systemClock, uuidV7Generator } from '../commands/clock.js';
import { createCommandHandler } from '../commands/handler.js';
import { clampedCommandsMetric } from '../commands/metrics.js';
import { miningSettingsOf } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { collectProcessMetrics } from '../ops/default-metrics.js';
import { meterAppends } from '../ops/store-metrics.js';
import { openEventStore } from '../store/open.js';
import { miningCodec } from '../commands/codec.js';
import { parseShard, ShardError, type Shard } from '../sweeper/shard.js';
import { startSweeper } from '../sweeper/sweeper.js';
import { integerFlag, stringFlag, UsageError, type ParsedArgs } from './args.js';
import { EXIT_OK, type CliCommand } from './command.js';

function shardFlag(args: ParsedArgs): Shard | undefined {
  const text = stringFlag(args, 'shard');
  if (text === undefined) return undefined;
  try {
    return parseShard(text);
  } catch (error) {
    if (error instanceof ShardError) throw new UsageError(`--shard: ${error.message}`);
    throw error;
  }
}

/** Prometheus text on HOST:<port>/metrics for a process that has no HTTP API (sweeper, relay). */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return server;
}

export const command: CliCommand = {
  name: 'sweeper',
  summary: 'the sweeper alone: stops sessions whose heartbeats stopped, at their deadline',
  usage: 'sweeper [--shard i/n] [--metrics-port <port>]',
  flags: {
    shard: { type: 'string', value: '<i/n>', description: 'sweep only shard i of n (0 <= i < n), accounts split by a stable hash' },
    'metrics-port': { type: 'string', value: '<port>', description: 'serve Prometheus metrics on HOST:<port>/metrics' },
  },
  async run(context) {
    const shard = shardFlag(context.args);
    const metricsPort = integerFlag(context.args, 'metrics-port', undefined, 0, 65535);
    const config = context.config();
    const logger = createLogger(config.logLevel, 'sweeper');
    const registry = new Registry();
    collectProcessMetrics(registry);
    const store = meterAppends(await openEventStore(config.eventStoreUrl, { codec: miningCodec }), registry);
    const clock = systemClock;
    const handler = createCommandHandler({
      store, clock, ids: uuidV7Generator(clock), settings: () => miningSettingsOf(config), onClamped: clampedCommandsMetric(registry),
    });
    const sweeper = await startSweeper({
      store, handler, clock, logger, registry, shard,
      intervalMs: config.sweepIntervalMs,
      graceMs: config.sweepGraceMs,
    });
    const server = metricsPort === undefined ? undefined : await serveMetrics(registry, config.host, metricsPort);
    const ended = await Promise.race([
      context.stopSignal.then((signal) => ({ signal, error: undefined })),
      sweeper.failure.then((error) => ({ signal: undefined, error })),
    ]);
    if (ended.signal) logger.info({ signal: ended.signal }, 'sweeper: stopping');
    await sweeper.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await store.close();
    if (ended.error) throw ended.error;
    return EXIT_OK;
  },
};
