// `rebuild [--swap]`: replays every event into a fresh read-model file and moves it into place.
// With --swap it also catches up with events written meanwhile, so a running `serve` keeps
// answering and continues from the new checkpoint.
import { RebuildInterruptedError, rebuildReadModel } from '../projections/projector/rebuild.js';
import { progressReporter } from './progress.js';
import { openEventStore } from '../store/open.js';
import { miningCodec } from '../commands/codec.js';
import { EXIT_MISMATCH, EXIT_OK, type CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'rebuild',
  summary: 'rebuilds every projection from the event store, with a progress bar',
  usage: 'rebuild [--swap]',
  flags: {
    swap: { type: 'boolean', description: 'build beside the live file and switch atomically while serve keeps answering' },
  },
  async run(context) {
    const config = context.config();
    const swap = context.args.flags.swap === true;
    let stopRequested = false;
    void context.stopSignal.then(() => (stopRequested = true));
    const progress = progressReporter(context.stderr);
    const store = await openEventStore(config.eventStoreUrl, { codec: miningCodec });
    try {
      const result = await rebuildReadModel({
        store, readModelPath: config.readModelPath, swap, onProgress: (p) => progress.update(p), shouldStop: () => stopRequested,
      });
      progress.done();
      const seconds = result.elapsedMs / 1000;
      const rate = seconds > 0 ? Math.round(result.events / seconds) : result.events;
      context.stdout.write(
        `rebuilt ${result.events} events up to position ${result.position} in ${seconds.toFixed(2)} s (${rate} events/s)` +
          `${swap ? ', swapped in' : ''}: ${result.path}\n`,
      );
      return EXIT_OK;
    } catch (error) {
      progress.done();
      if (!(error instanceof RebuildInterruptedError)) throw error;
      context.stderr.write(`mining-ledger rebuild: ${error.message}\n`);
      return EXIT_MISMATCH;
    } finally {
      await store.close();
    }
  },
};
