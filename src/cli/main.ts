// Entry point of `mining-ledger <command>`: dispatch, help, configuration and exit codes.
import { ConfigError, CONFIG_VARIABLES, flagOf, loadConfig, type Config } from '../config/config.js';
import { parseArgs, UsageError } from './args.js';
import { EXIT_USAGE, type CliCommand, type CliContext } from './command.js';
import { StartupError } from '../config/files.js';

interface Entry {
  summary: string;
  load: () => Promise<{ command: CliCommand }>;
}

// Commands load lazily so `--help` and small commands start fast.
const COMMANDS: Record<string, Entry> = {
  serve: { summary: 'HTTP API with projector and sweeper in one process', load: () => import('./serve.js') },
  sweeper: { summary: 'the sweeper alone: stops sessions at their deadline', load: () => import('./sweeper.js') },
  project: { summary: 'the projector alone: keeps the read models up to date', load: () => import('./project.js') },
  relay: { summary: 'publishes every event to Kafka', load: () => import('./relay.js') },
  rebuild: { summary: 'rebuilds every projection from the event store', load: () => import('./rebuild.js') },
  replay: { summary: "the auditor's ledger of one account, rebuilt from its stream", load: () => import('./replay.js') },
  verify: { summary: 'replays every account and compares with the projections', load: () => import('./verify.js') },
  token: { summary: 'mints a bearer token with the configured secret', load: () => import('./token.js') },
  checkpoint: { summary: 'appends a signed Merkle tree head of the event store to a checkpoints file', load: () => import('./checkpoint.js') },
  simulate: { summary: 'drives simulated miners on a virtual clock and checks every balance', load: () => import('./simulate.js') },
  doctor: { summary: 'checks the deployment: store, read model, secret, clock, disk, sweeper', load: () => import('./doctor.js') },
  backup: { summary: 'a consistent online copy of the embedded event store', load: () => import('./backup.js') },
  adjust: { summary: 'adjusts the balance of one account (a BalanceAdjusted event)', load: () => import('./adjust.js') },
  import: { summary: 'opening balances from a legacy system, CSV or NDJSON, idempotent', load: () => import('./import.js') },
  export: { summary: 'one row per session and adjustment, CSV or NDJSON, for accounting', load: () => import('./export.js') },
};

function toolHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, e]) => `  ${name.padEnd(width)}  ${e.summary}`);
  return [
    'mining-ledger — an event-sourced ledger for token mining',
    '',
    'Usage: mining-ledger <command> [flags]',
    '',
    'Commands:',
    ...lines,
    '',
    'Every command accepts the configuration variables as flags, e.g. --port 3000, --event-store-url sqlite:./data/events.db.',
    'Run `mining-ledger <command> --help` for a command\'s flags.',
    'Exit codes: 0 success, 1 a check found a mismatch, 2 bad usage or configuration.',
  ].join('\n');
}

export function commandHelp(command: CliCommand): string {
  const flags = Object.entries(command.flags).map(([name, spec]) => {
    const left = `--${name}${spec.type === 'string' ? ` ${spec.value ?? '<value>'}` : ''}`;
    return `  ${left.padEnd(28)} ${spec.description}`;
  });
  return [
    `Usage: mining-ledger ${command.usage}`,
    '',
    command.summary,
    ...(flags.length ? ['', 'Flags:', ...flags] : []),
    '',
    `Configuration flags: ${CONFIG_VARIABLES.map((v) => `--${flagOf(v)}`).join(', ')}`,
  ].join('\n');
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream & import('node:stream').Writable;
  stderr?: NodeJS.WritableStream & import('node:stream').Writable;
  stopSignal?: Promise<string>;
}

export async function runCli(argv: string[], options: RunOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    stdout.write(`${toolHelp()}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const entry = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    stderr.write(`mining-ledger: unknown command "${name}"\n\n${toolHelp()}\n`);
    return EXIT_USAGE;
  }
  const { command } = await entry.load();
  try {
    const args = parseArgs(rest, command.flags, command.positionals);
    if (args.help) {
      stdout.write(`${commandHelp(command)}\n`);
      return 0;
    }
    let config: Config | undefined;
    const context: CliContext = {
      args,
      env,
      stdout,
      stderr,
      stopSignal: options.stopSignal ?? new Promise<string>(() => undefined),
      config: () => (config ??= loadConfig({ ...env, ...args.config }, { readOnly: command.readOnly === true })),
    };
    return await command.run(context);
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`mining-ledger ${name}: ${error.message}\nUsage: mining-ledger ${command.usage}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof StartupError) {
      stderr.write(`mining-ledger ${name}: cannot start: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      stderr.write(`mining-ledger ${name}: invalid configuration: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

/** Process wiring: signals become a promise commands can await; the exit code is the command's. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    process.exitCode = await runCli(argv, { stopSignal });
  } catch (error) {
    process.stderr.write(`mining-ledger: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
