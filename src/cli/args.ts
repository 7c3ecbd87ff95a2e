// Flag parsing for every command, by node:util parseArgs (strict): declared flags only, a flag that
// takes a value takes it once, `--no-x` for a boolean x; anything else is a usage error (exit 2).
import { parseArgs as parseArgv, type ParseArgsConfig } from 'node:util';
import { CONFIG_VARIABLES, flagOf, type ConfigVariable } from '../config/config.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  type: 'boolean' | 'string';
  description: string;
  /** Placeholder shown in help, e.g. "<n>". */
  value?: string;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean>;
  /** Configuration given as flags, keyed by variable name (PORT, EVENT_STORE_URL, …). */
  config: Partial<Record<ConfigVariable, string>>;
  help: boolean;
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Token = NonNullable<ReturnType<typeof parseArgv>['tokens']>[number];

const CONFIG_FLAGS = new Map<string, ConfigVariable>(CONFIG_VARIABLES.map((v) => [flagOf(v), v]));

/** The command's flags, then every configuration variable as a string flag (it wins a clash), then help. */
function optionsOf(specs: Record<string, FlagSpec>): Options {
  const options: Options = {};
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.type };
  for (const name of CONFIG_FLAGS.keys()) options[name] = { type: 'string' };
  options.help = { type: 'boolean', short: 'h' };
  return options;
}

/**
 * parseArgs refuses `--amount -7.64` as ambiguous (the value looks like a flag); here a value may
 * start with one dash, as before, so it is handed over inline (`--amount=-7.64`). `--x --y` stays refused.
 */
function inlineDashValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return out.concat(argv.slice(i));
    const next = argv[i + 1];
    const takesValue = arg.startsWith('--') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && next.startsWith('-') && !next.startsWith('--')) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Names the flag a strict parse refused, from a lenient parse's tokens; Node's own message otherwise. */
function explain(error: Error, argv: string[], options: Options): UsageError {
  const { tokens } = parseArgv({ args: argv, options, strict: false, allowPositionals: true, allowNegative: true, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const type = Object.prototype.hasOwnProperty.call(options, token.name) ? options[token.name]!.type : undefined;
    const negative = token.rawName.startsWith('--no-');
    if (type === undefined || (negative && type !== 'boolean')) return new UsageError(`unknown flag ${token.rawName}`);
    if (type === 'boolean' && token.value !== undefined) return new UsageError(`${token.rawName} takes no value`);
    if (type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))) {
      return new UsageError(`${token.rawName} needs a value`);
    }
  }
  return new UsageError(error.message.split('\n')[0]!);
}

function parseStrict(argv: string[], options: Options): { values: Record<string, string | boolean | undefined>; positionals: string[]; tokens: Token[] } {
  try {
    const parsed = parseArgv({ args: argv, options, strict: true, allowPositionals: true, allowNegative: true, tokens: true });
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals, tokens: parsed.tokens };
  } catch (error) {
    // ERR_PARSE_ARGS_*: the options are ours and valid, so any throw is about the arguments.
    throw explain(error as Error, argv, options);
  }
}

export function parseArgs(argv: string[], specs: Record<string, FlagSpec>, positionals = { min: 0, max: 0 }): ParsedArgs {
  const options = optionsOf(specs);
  const args = inlineDashValues(argv, options);
  const { values, positionals: given, tokens } = parseStrict(args, options);
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.rawName === '--no-help') throw new UsageError('unknown flag --no-help');
    if (options[token.name]!.type !== 'string') continue;
    // `token --sub a --sub b` signed b: a flag that takes one value takes it once.
    if (seen.has(token.name)) throw new UsageError(`--${token.name} given more than once`);
    seen.add(token.name);
    // An empty value would silently mean the default for configuration; say so instead.
    if (token.value === '' && CONFIG_FLAGS.has(token.name)) throw new UsageError(`--${token.name} needs a value`);
  }
  const parsed: ParsedArgs = { positionals: given, flags: {}, config: {}, help: values.help === true };
  for (const [name, value] of Object.entries(values)) {
    if (name === 'help' || value === undefined) continue;
    const variable = CONFIG_FLAGS.get(name);
    if (variable) parsed.config[variable] = value as string;
    else parsed.flags[name] = value;
  }
  if (!parsed.help) {
    if (given.length < positionals.min) throw new UsageError('missing argument');
    if (given.length > positionals.max) throw new UsageError(`unexpected argument "${given[positionals.max]}"`);
  }
  return parsed;
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A flag that must be an integer within bounds. */
export function integerFlag(args: ParsedArgs, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return fallback;
  if (!/^-?[0-9]+$/.test(raw)) throw new UsageError(`--${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be between ${min} and ${max}`);
  return value;
}

export function numberFlag(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = stringFlag(args, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}
