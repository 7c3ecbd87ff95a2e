// `verify`: replays every account from the event store and compares it with the read model, follows
// every stream's hash chain, and with --checkpoints checks signed tree heads against the store.
// Exit 1 on any difference; a projection that merely lags is caught up first, not reported.
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { parseCheckpoints, verifyCheckpoints, type CheckpointFinding } from '../audit/checkpoint.js';
import { describeBreak } from '../audit/chain.js';
import { readPublicKey, signingKey } from '../audit/keys.js';
import { withCaughtUpProjection } from '../projections/projector/caught-up.js';
import { verifyAll, VerifyInterruptedError } from '../projections/ledger/verify.js';
import { integerFlag, stringFlag, UsageError } from './args.js';
import { EXIT_MISMATCH, EXIT_OK, type CliCommand } from './command.js';

function checkpointInputs(file: string | undefined, keyFile: string | undefined, dataDir: string): { findings: CheckpointFinding[]; key: KeyObject } | undefined {
  if (file === undefined) {
    if (keyFile !== undefined) throw new UsageError('--public-key is only used with --checkpoints FILE');
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--checkpoints: cannot read ${file}: ${(error as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = keyFile === undefined ? signingKey(dataDir, false).publicKey : readPublicKey(keyFile);
  } catch (error) {
    const what = keyFile === undefined ? `no signing key in DATA_DIR (${dataDir}); give --public-key PEM_FILE` : `--public-key: cannot use ${keyFile}`;
    throw new UsageError(`${what}: ${(error as Error).message}`);
  }
  return { findings: parseCheckpoints(text), key };
}

export const command: CliCommand = {
  name: 'verify',
  summary: 'replays every account and compares it with the projections, checks every hash chain and, with --checkpoints, signed tree heads; exit 1 on any difference',
  usage: 'verify [--max-accounts-per-pass <n>] [--checkpoints FILE [--public-key PEM_FILE]]',
  flags: {
    'max-accounts-per-pass': { type: 'string', value: '<n>', description: 'accounts folded in memory per pass over the log (default 250000)' },
    checkpoints: { type: 'string', value: 'FILE', description: 'checkpoints (from `checkpoint`) to check: signatures and tree heads' },
    'public-key': { type: 'string', value: 'PEM_FILE', description: "the checkpoints' public key (default: the key in DATA_DIR)" },
  },
  readOnly: true,
  async run(context) {
    const maxAccountsPerPass = integerFlag(context.args, 'max-accounts-per-pass', 250_000, 1, 100_000_000)!;
    const config = context.config();
    const checkpoints = checkpointInputs(stringFlag(context.args, 'checkpoints'), stringFlag(context.args, 'public-key'), config.dataDir);
    let stopRequested = false;
    void context.stopSignal.then(() => (stopRequested = true));
    let failedCheckpoints = 0;
    const summary = await withCaughtUpProjection(config, async ({ store, readModel }) => {
      if (checkpoints) {
        for (const finding of await verifyCheckpoints(store, checkpoints.findings, checkpoints.key)) {
          if (finding.problem === null) continue;
          failedCheckpoints++;
          const where = finding.checkpoint ? ` (position ${finding.checkpoint.position}, size ${finding.checkpoint.size})` : '';
          context.stdout.write(`CHECKPOINT line ${finding.line}${where}: ${finding.problem}\n`);
        }
      }
      return verifyAll({
        store, readModel, readModelPath: config.readModelPath, maxAccountsPerPass, shouldStop: () => stopRequested,
        onMismatch: ({ accountId, differences }) => context.stdout.write(`MISMATCH ${accountId}: ${differences.join('; ')}\n`),
        onChainBreak: (broken) => context.stdout.write(`BROKEN ${describeBreak(broken)}\n`),
      });
    }).catch((error: unknown) => {
      if (!(error instanceof VerifyInterruptedError)) throw error;
      context.stderr.write(`mining-ledger verify: ${error.message}; nothing was checked to the end\n`);
      return undefined;
    });
    if (!summary) return EXIT_MISMATCH;
    context.stdout.write(
      `hash chains: ${summary.chained} events chained, ${summary.unchained} unchained (written before the chain), ${summary.chainBreaks} broken\n` +
        (checkpoints ? `checkpoints: ${checkpoints.findings.length} checked, ${failedCheckpoints} failed\n` : '') +
        // The projection's summary stays last and unchanged: scripts read the closing "mismatches: N".
        `verified up to position ${summary.position} in ${summary.passes} pass${summary.passes === 1 ? '' : 'es'}\n` +
        `accounts: ${summary.accounts}\nevents: ${summary.events}\nmismatches: ${summary.mismatches}\n`,
    );
    return summary.mismatches === 0 && summary.chainBreaks === 0 && failedCheckpoints === 0 ? EXIT_OK : EXIT_MISMATCH;
  },
};
