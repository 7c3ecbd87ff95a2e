// `backup <file>`: a consistent online copy of the embedded event store while `serve` writes.
// Restore: stop the service, copy the backup over the events file, `rebuild` (docs/operations.md).
import { loadConfig } from '../config/config.js';
import { BackupError, backupSqliteStore } from '../ops/backup.js';
import { UsageError } from './args.js';
import { EXIT_OK, type CliCommand } from './command.js';

const NATIVE_TOOLS =
  'backup copies the embedded SQLite store only; for EventStoreDB back up its database directory with its own procedure ' +
  '(file copy of the chunks and index, https://developers.eventstore.com/server/ operations → backup), for PostgreSQL use pg_dump or pg_basebackup';

export const command: CliCommand = {
  name: 'backup',
  summary: 'a consistent online copy of the embedded event store (safe while serve writes)',
  usage: 'backup <file>',
  flags: {},
  positionals: { min: 1, max: 1 },
  async run(context) {
    const target = context.args.positionals[0]!;
    // Reads only: the data directory and the store must exist already.
    const config = loadConfig({ ...context.env, ...context.args.config }, { readOnly: true });
    if (!config.eventStoreUrl.startsWith('sqlite:')) throw new UsageError(NATIVE_TOOLS);
    try {
      const result = backupSqliteStore(config.eventStoreUrl.slice('sqlite:'.length), target);
      context.stdout.write(
        `backup: ${result.path}\nposition: ${result.position}\nevents: ${result.events}\nbytes: ${result.bytes}\nms: ${result.ms}\n`,
      );
      return EXIT_OK;
    } catch (error) {
      if (error instanceof BackupError) throw new UsageError(error.message);
      throw error;
    }
  },
};
