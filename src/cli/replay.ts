// `replay <accountId> [--json]`: the auditor's ledger of one account, replayed from its stream and
// set beside the projection. Exit 1 when they differ.
import { isValidAccountId } from '../domain/events.js';
import { differencesOf, planComparison } from '../projections/audit.js';
import { withCaughtUpProjection } from '../projections/caught-up.js';
import { replayStream } from '../projections/ledger.js';
import { BufferedOutput, jsonPrinter, tablePrinter } from '../projections/ledger-format.js';
import { UsageError } from './args.js';
import { EXIT_MISMATCH, EXIT_OK, type CliCommand } from './command.js';

/** How long the projection may take to reach the account's last event once it has caught up. */
const CATCH_UP_TIMEOUT_MS = 30_000;

export const command: CliCommand = {
  name: 'replay',
  summary: "the auditor's ledger of one account, rebuilt from its stream: every session and interval, credited or not and why",
  usage: 'replay <accountId> [--json]',
  flags: { json: { type: 'boolean', description: 'print the ledger as one JSON document' } },
  positionals: { min: 1, max: 1 },
  readOnly: true,
  async run(context) {
    const accountId = context.args.positionals[0]!;
    if (!isValidAccountId(accountId)) {
      throw new UsageError(`"${accountId}" is not a valid account id (letters, digits and ._@+-, starting with a letter or digit, at most 128)`);
    }
    const config = context.config();
    const json = context.args.flags.json === true;
    return withCaughtUpProjection(config, async ({ store, readModel }) => {
      const plan = await planComparison(store, readModel, accountId, CATCH_UP_TIMEOUT_MS);
      const out = new BufferedOutput(context.stdout);
      const printer = json ? jsonPrinter(out, accountId) : tablePrinter(out, accountId);
      const totals = await replayStream(store, accountId, printer, plan.untilPosition);
      const differences = differencesOf(totals, plan.projected);
      await printer.finish(totals, plan.projected, differences);
      return differences.length === 0 ? EXIT_OK : EXIT_MISMATCH;
    });
  },
};
