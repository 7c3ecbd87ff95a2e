// Flag parsing for every command: declared flags only; anything else is a usage error (exit 2).
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

const CONFIG_FLAGS = new Map<string, ConfigVariable>(CONFIG_VARIABLES.map((v) => [flagOf(v), v]));

export function parseArgs(argv: string[], specs: Record<string, FlagSpec>, positionals = { min: 0, max: 0 }): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], flags: {}, config: {}, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      parsed.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const variable = CONFIG_FLAGS.get(name);
    const spec: FlagSpec | undefined = variable ? { type: 'string', description: '' } : specs[name];
    if (!spec) {
      if (name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean') {
        parsed.flags[name.slice(3)] = false;
        continue;
      }
      throw new UsageError(`unknown flag --${name}`);
    }
    let value: string | boolean;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      value = true;
    } else {
      const next = inline ?? argv[++i];
      if (next === undefined || (inline === undefined && next.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      value = next;
    }
    // An empty value would silently mean the default; say so instead.
    if (variable && value === '') throw new UsageError(`--${name} needs a value`);
    // `token --sub a --sub b` signed b: a flag that takes one value takes it once.
    if (variable ? parsed.config[variable] !== undefined : spec.type === 'string' && parsed.flags[name] !== undefined) {
      throw new UsageError(`--${name} given more than once`);
    }
    if (variable) parsed.config[variable] = value as string;
    else parsed.flags[name] = value;
  }
  if (!parsed.help) {
    if (parsed.positionals.length < positionals.min) throw new UsageError('missing argument');
    if (parsed.positionals.length > positionals.max) throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max]}"`);
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
