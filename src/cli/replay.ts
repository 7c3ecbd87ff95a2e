// `replay <accountId> [--json]`: the auditor's ledger of one account, replayed from its stream and
// set beside the projection. Exit 1 when they differ.
import { AT_DESCRIPTION, parseAt } from '../audit/at.js';
import { isValidAccountId } from '../domain/events.js';
import { differencesOf, historicalPosition, planComparison } from '../projections/ledger/audit.js';
import { withCaughtUpProjection } from '../projections/projector/caught-up.js';
import { replayStream } from '../projections/ledger/ledger.js';
import { BufferedOutput, jsonPrinter } from '../projections/ledger/ledger-format.js';
import { tablePrinter } from './ledger-table.js';
import { stringFlag, UsageError } from './args.js';
import { EXIT_MISMATCH, EXIT_OK, type CliCommand } from './command.js';

/** How long the projection may take to reach the account's last event once it has caught up. */
const CATCH_UP_TIMEOUT_MS = 30_000;

export const command: CliCommand = {
  name: 'replay',
  summary: "the auditor's ledger of one account, rebuilt from its stream: every session and interval, credited or not and why",
  usage: 'replay <accountId> [--json] [--at <ISO time | position>]',
  flags: {
    json: { type: 'boolean', description: 'print the ledger as one JSON document' },
    at: { type: 'string', value: '<ISO|position>', description: 'the ledger as the store held it then: events up to that position, or recorded at or before that time' },
  },
  positionals: { min: 1, max: 1 },
  readOnly: true,
  async run(context) {
    const accountId = context.args.positionals[0]!;
    if (!isValidAccountId(accountId)) {
      throw new UsageError(`"${accountId}" is not a valid account id (letters, digits and ._@+-, starting with a letter or digit, at most 128)`);
    }
    const atText = stringFlag(context.args, 'at');
    const at = atText === undefined ? undefined : parseAt(atText);
    if (atText !== undefined && at === undefined) throw new UsageError(`--at must be ${AT_DESCRIPTION}, got "${atText}"`);
    const config = context.config();
    const json = context.args.flags.json === true;
    return withCaughtUpProjection(config, async ({ store, readModel }) => {
      const until = await historicalPosition(store, accountId, at);
      const plan = until === null
        ? await planComparison(store, readModel, accountId, CATCH_UP_TIMEOUT_MS)
        : { untilPosition: until, projected: readModel.account(accountId) };
      const out = new BufferedOutput(context.stdout);
      const printer = json ? jsonPrinter(out, accountId) : tablePrinter(out, accountId);
      const totals = await replayStream(store, accountId, printer, plan.untilPosition);
      // A ledger of the past is not compared with the projection, which holds the present.
      const differences = until === null ? differencesOf(totals, plan.projected) : [];
      await printer.finish(totals, plan.projected, differences, until === null ? undefined : { at: at!.text, position: until });
      return differences.length === 0 && !totals.chain?.broken ? EXIT_OK : EXIT_MISMATCH;
    });
  },
};
