// `verify`: replays every account from the event store and compares it with the read model.
// Exit 1 on any difference; a projection that merely lags is caught up first, not reported.
import { withCaughtUpProjection } from '../projections/caught-up.js';
import { verifyAll, VerifyInterruptedError } from '../projections/verify.js';
import { integerFlag } from './args.js';
import { EXIT_MISMATCH, EXIT_OK, type CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'verify',
  summary: 'replays every account from the event store and compares it with the projections; exit 1 on any difference',
  usage: 'verify [--max-accounts-per-pass <n>]',
  flags: {
    'max-accounts-per-pass': { type: 'string', value: '<n>', description: 'accounts folded in memory per pass over the log (default 250000)' },
  },
  readOnly: true,
  async run(context) {
    const maxAccountsPerPass = integerFlag(context.args, 'max-accounts-per-pass', 250_000, 1, 100_000_000)!;
    const config = context.config();
    let stopRequested = false;
    void context.stopSignal.then(() => (stopRequested = true));
    const summary = await withCaughtUpProjection(config, ({ store, readModel }) =>
      verifyAll({
        store, readModel, readModelPath: config.readModelPath, maxAccountsPerPass, shouldStop: () => stopRequested,
        onMismatch: ({ accountId, differences }) => context.stdout.write(`MISMATCH ${accountId}: ${differences.join('; ')}\n`),
      }),
    ).catch((error: unknown) => {
      if (!(error instanceof VerifyInterruptedError)) throw error;
      context.stderr.write(`mining-ledger verify: ${error.message}; nothing was checked to the end\n`);
      return undefined;
    });
    if (!summary) return EXIT_MISMATCH;
    context.stdout.write(
      `verified up to position ${summary.position} in ${summary.passes} pass${summary.passes === 1 ? '' : 'es'}\n` +
        `accounts: ${summary.accounts}\nevents: ${summary.events}\nmismatches: ${summary.mismatches}\n`,
    );
    return summary.mismatches === 0 ? EXIT_OK : EXIT_MISMATCH;
  },
};
