// PLACEHOLDER until its issue lands: refuses to run rather than pretend.
import { EXIT_USAGE, type CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'serve',
  summary: 'not built yet',
  usage: 'serve',
  flags: {},
  async run(context) {
    context.stderr.write('mining-ledger serve: not built yet\n');
    return EXIT_USAGE;
  },
};
