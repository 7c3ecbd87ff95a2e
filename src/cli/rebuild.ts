// PLACEHOLDER until its issue lands: refuses to run rather than pretend.
import { EXIT_USAGE, type CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'rebuild',
  summary: 'not built yet',
  usage: 'rebuild',
  flags: {},
  async run(context) {
    context.stderr.write('mining-ledger rebuild: not built yet\n');
    return EXIT_USAGE;
  },
};
