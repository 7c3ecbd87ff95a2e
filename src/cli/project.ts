// `project`: the projector alone. Follows the event store into the read models until SIGTERM or
// SIGINT, then commits what it has applied and exits.
import { createLogger } from '../config/logger.js';
import { startProjector } from '../projections/projector/projector.js';
import { openEventStore } from '../store/open.js';
import { miningCodec } from '../commands/codec.js';
import { EXIT_OK, type CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'project',
  summary: 'the projector alone: keeps the read models up to date until SIGTERM/SIGINT',
  usage: 'project',
  flags: {},
  async run(context) {
    const config = context.config();
    const logger = createLogger(config.logLevel, 'projector');
    const store = await openEventStore(config.eventStoreUrl, { codec: miningCodec });
    try {
      const projector = await startProjector({ store, readModelPath: config.readModelPath, logger });
      try {
        // A projector that cannot read the store fails its catch-up; otherwise run until told to stop.
        const signal = await Promise.race([context.stopSignal, projector.caughtUp.then(() => context.stopSignal)]);
        logger.info({ signal, position: projector.readModel.position().toString() }, 'stopping the projector');
      } finally {
        await projector.stop();
      }
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
};
