// `import <file> [--format csv|ndjson] [--dry-run]`: opening balances from a legacy system
// (SPEC §10). Every bad line is named and nothing is written (exit 2); a rerun writes nothing.
import { statSync } from 'node:fs';
import { systemClock, uuidV7Generator } from '../commands/clock.js';
import { createAdjuster } from '../commands/adjust.js';
import { formatTokens } from '../domain/money.js';
import { checkFile, ImportConflictError, writeRows } from '../migration/import.js';
import { formatOf, ImportFileError } from '../migration/rows.js';
import { openEventStore } from '../store/open.js';
import { miningCodec } from '../commands/codec.js';
import { integerFlag, stringFlag, UsageError } from './args.js';
import { EXIT_MISMATCH, EXIT_OK, EXIT_USAGE, type CliCommand } from './command.js';
import { operatorActor } from './operator.js';
import { rowProgress } from './row-progress.js';

export const command: CliCommand = {
  name: 'import',
  summary: 'opening balances from a legacy system (accountId,balance[,reference]) as migration adjustments; the file is checked whole first',
  usage: 'import <file> [--format csv|ndjson] [--dry-run] [--concurrency <n>]',
  flags: {
    format: { type: 'string', value: 'csv|ndjson', description: 'default: ndjson for .ndjson/.jsonl files, csv otherwise' },
    'dry-run': { type: 'boolean', description: 'check the file and print the summary; write nothing' },
    concurrency: { type: 'string', value: '<n>', description: 'adjustments in flight at once (default 256)' },
  },
  positionals: { min: 1, max: 1 },
  async run(context) {
    const path = context.args.positionals[0]!;
    const format = formatOf(path, stringFlag(context.args, 'format'));
    if (format === undefined) throw new UsageError('--format must be csv or ndjson');
    const concurrency = integerFlag(context.args, 'concurrency', 256, 1, 10_000)!;
    const dryRun = context.args.flags['dry-run'] === true;
    try {
      if (!statSync(path).isFile()) throw new UsageError(`${path} is not a file`);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const config = context.config();
    const err = context.stderr;

    let check;
    try {
      check = await checkFile(path, format, (line, reason) => err.write(`${path}:${line}: ${reason}\n`));
    } catch (error) {
      if (!(error instanceof ImportFileError)) throw error;
      err.write(`${path}:${error.line}: ${error.message}\nmining-ledger import: nothing written\n`);
      return EXIT_USAGE;
    }
    if (check.badLines > 0) {
      err.write(`mining-ledger import: ${check.badLines} bad line${check.badLines === 1 ? '' : 's'} in ${path}; nothing written\n`);
      return EXIT_USAGE;
    }

    let stopRequested = false;
    void context.stopSignal.then(() => (stopRequested = true));
    const store = await openEventStore(config.eventStoreUrl, { codec: miningCodec });
    const progress = rowProgress(err, dryRun ? 'import (dry run)' : 'import');
    try {
      const adjuster = createAdjuster({ store, clock: systemClock, ids: uuidV7Generator(systemClock), dryRun });
      const toWrite = check.accounts - check.zero;
      const written = await writeRows({
        path, format, adjuster, total: toWrite, concurrency,
        context: { actor: operatorActor(context.env), correlationId: `cli-import-${Date.now().toString(36)}` },
        onProgress: (p) => progress.update(p.done, p.total, p.elapsedMs),
        shouldStop: () => stopRequested,
      });
      progress.done();
      context.stdout.write(
        `${dryRun ? 'dry run: nothing written\n' : ''}rows: ${check.rows}\naccounts: ${check.accounts}\n` +
          `total: ${formatTokens(check.totalUnits)} (${check.totalUnits} units)\n` +
          `${dryRun ? 'would write' : 'written'}: ${written.written}\nalready present: ${written.alreadyPresent}\n` +
          `zero balance (nothing to write): ${check.zero}\n`,
      );
      if (written.interrupted) {
        err.write('mining-ledger import: interrupted; run the same import again to finish it (rows written are not written twice)\n');
        return EXIT_MISMATCH;
      }
      return EXIT_OK;
    } catch (error) {
      progress.done();
      if (!(error instanceof ImportConflictError)) throw error;
      err.write(`mining-ledger import: ${error.message}\n`);
      return EXIT_USAGE;
    } finally {
      await store.close();
    }
  },
};
