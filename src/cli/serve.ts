// `serve [--no-sweeper] [--no-projector]`: the HTTP API on HOST:PORT, with the projector and the
// sweeper in the same process unless they run elsewhere. Shuts down gracefully on SIGTERM/SIGINT:
// stop accepting, finish in-flight commands, stop the sweeper, commit the projector, close the store.
import { Registry } from 'prom-client';
import { buildApp } from '../api/app.js';
import { resolveSecret } from '../api/secret.js';
import { systemClock, uuidV7Generator } from '../commands/clock.js';
import { createCommandHandler, type CommandHandler } from '../commands/handler.js';
import { clampedCommandsMetric } from '../commands/metrics.js';
import { miningSettingsOf, type Config } from '../config/config.js';
import { createLogger, type Logger } from '../config/logger.js';
import { auditStream } from '../projections/ledger/audit.js';
import { startProjector, type Projector } from '../projections/projector/projector.js';
import type { ReadModel } from '../projections/read-model/read-model.js';
import { openReadModel } from '../projections/read-model/sqlite-read-model.js';
import { collectProcessMetrics } from '../ops/default-metrics.js';
import { cachedOverdueCount } from '../ops/overdue.js';
import { meterAppends } from '../ops/store-metrics.js';
import { lagSecondsOf } from '../projections/projector/metrics.js';
import { openEventStore } from '../store/open.js';
import { miningCodec, type MiningStore } from '../commands/codec.js';
import type { IntegrityResult } from '../store/sqlite/integrity.js';
import { startSweeper, type Sweeper } from '../sweeper/sweeper.js';
import { EXIT_OK, EXIT_USAGE, type CliCommand } from './command.js';

interface Parts {
  store: MiningStore;
  handler: CommandHandler;
  projector: Projector | undefined;
  readModel: ReadModel;
  sweeper: Sweeper | undefined;
}

async function startParts(config: Config, logger: Logger, registry: Registry, flags: { projector: boolean; sweeper: boolean }): Promise<Parts> {
  const integrityCheck = config.integrityCheckMs === 0 ? undefined : {
    budgetMs: config.integrityCheckMs,
    onResult: (result: IntegrityResult, file: string) => {
      if (result.kind === 'ok') logger.info({ file, ms: result.ms }, 'event store integrity check (quick_check) passed');
      else if (result.kind === 'damaged') {
        logger.error({ file, errors: result.errors, ms: result.ms },
          `event store ${file} failed its integrity check: /readyz is 503; run mining-ledger verify and restore a backup (docs/operations.md "Backup and restore")`);
      } else {
        logger.warn({ file, ms: result.ms, reason: result.reason, budgetMs: config.integrityCheckMs },
          `event store integrity check cut short (${result.reason}): the file was not fully checked; run mining-ledger verify, or raise INTEGRITY_CHECK_MS`);
      }
    },
  };
  const store = meterAppends(await openEventStore(config.eventStoreUrl, integrityCheck ? { codec: miningCodec, integrityCheck } : { codec: miningCodec }), registry);
  const clock = systemClock;
  const settings = miningSettingsOf(config);
  const handler = createCommandHandler({
    store, clock, ids: uuidV7Generator(clock), settings: () => settings, onClamped: clampedCommandsMetric(registry),
  });
  let projector: Projector | undefined;
  try {
    projector = flags.projector ? await startProjector({ store, readModelPath: config.readModelPath, logger, registry }) : undefined;
    const readModel = projector ? projector.readModel : openReadModel(config.readModelPath);
    const sweeper = flags.sweeper
      ? await startSweeper({
        store, handler, clock, intervalMs: config.sweepIntervalMs, graceMs: config.sweepGraceMs, logger, registry,
        // A read model that is not servable (SPEC §15) is no seed either: the sweeper reads the store.
        ...(projector?.problem() ? {} : { readModel }),
      })
      : undefined;
    void sweeper?.failure.then((error) =>
      logger.error({ err: error }, 'sweeper stopped following the store; balances stay exact, stops are recorded late until a restart'));
    return { store, handler, projector, readModel, sweeper };
  } catch (error) {
    await projector?.stop();
    await store.close();
    throw error;
  }
}

async function stopParts(parts: Parts, logger: Logger): Promise<void> {
  await parts.sweeper?.stop();
  if (parts.projector) await parts.projector.stop();
  else parts.readModel.close();
  await parts.store.close();
  logger.info('stopped');
}

export const command: CliCommand = {
  name: 'serve',
  summary: 'HTTP API with projector and sweeper in one process',
  usage: 'serve [--no-sweeper] [--no-projector]',
  flags: {
    sweeper: { type: 'boolean', description: 'run the sweeper here (default); --no-sweeper when it runs as its own process' },
    projector: { type: 'boolean', description: 'run the projector here (default); --no-projector to follow a read model another process keeps' },
  },
  async run(context) {
    const config = context.config();
    const logger = createLogger(config.logLevel);
    const flags = { projector: context.args.flags.projector !== false, sweeper: context.args.flags.sweeper !== false };
    const secret = resolveSecret({ jwtSecret: config.jwtSecret, dataDir: config.dataDir });
    if (secret.source === 'created') logger.warn({ path: secret.path }, 'JWT_SECRET is unset: created a signing secret (mode 0600); `mining-ledger token` uses it');
    if (secret.looseMode) logger.warn({ path: secret.path }, 'the signing secret is readable by other users; chmod 600 it');

    const registry = new Registry();
    collectProcessMetrics(registry);
    const parts = await startParts(config, logger, registry, flags);
    const { store, readModel, handler } = parts;
    const app = await buildApp({
      settings: {
        heartbeatIntervalMs: config.heartbeatIntervalMs, commandRateLimitPerMinute: config.commandRateLimitPerMinute,
        auditConcurrency: config.auditConcurrency, maxConnections: config.maxConnections, corsOrigins: config.corsOrigins,
      },
      store, handler, readModel, clock: systemClock, registry, logger,
      secret: secret.secret,
      audit: (accountId, query) => auditStream({ store, readModel, accountId, at: query?.at }),
      ...(parts.projector ? { caughtUp: parts.projector.caughtUp } : {}),
      metrics: {
        ...(parts.projector ? {} : {
          projectorLag: async () => lagOf(await store.headPosition(), readModel.position()),
          projectorLagSeconds: () => lagSecondsOf(store, readModel.position(), systemClock.now()),
        }),
        // Without a sweeper here, the read model's active sessions tell how many are left overdue.
        ...(parts.sweeper ? {} : {
          sessionsOverdue: cachedOverdueCount({ pages: (o) => readModel.activeSessions(o), now: () => systemClock.now(), graceMs: config.sweepGraceMs }),
        }),
      },
    });
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      await app.close();
      await stopParts(parts, logger);
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        context.stderr.write(`mining-ledger serve: cannot listen on HOST ${config.host} PORT ${config.port}: ${code}\n`);
        return EXIT_USAGE;
      }
      throw error;
    }
    logger.info({ projector: flags.projector, sweeper: flags.sweeper, eventStore: config.eventStoreUrl.split(':')[0] }, 'serving');

    const signal = await context.stopSignal;
    logger.info({ signal, drainMs: config.shutdownDrainMs }, 'shutting down: finishing in-flight requests');
    const drained = await app.drain({ boundMs: config.shutdownDrainMs });
    if (drained.cutOff > 0) logger.warn(drained, 'SHUTDOWN_DRAIN_MS reached: closed connections with requests still running');
    else logger.info(drained, 'drained');
    await app.close();
    await stopParts(parts, logger);
    return EXIT_OK;
  },
};

function lagOf(head: bigint | 'start', applied: bigint): bigint {
  const last = head === 'start' ? 0n : head;
  return last > applied ? last - applied : 0n;
}
