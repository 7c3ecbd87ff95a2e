// PLACEHOLDER until its issue lands: refuses to run rather than pretend.
import { EXIT_USAGE, type CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'sweeper',
  summary: 'not built yet',
  usage: 'sweeper',
  flags: {},
  async run(context) {
    context.stderr.write('mining-ledger sweeper: not built yet\n');
    return EXIT_USAGE;
  },
};
