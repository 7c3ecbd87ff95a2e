// What every command of the command line looks like; one small file per command implements it.
import type { Writable } from 'node:stream';
import type { Config } from '../config/config.js';
import type { FlagSpec, ParsedArgs } from './args.js';

export const EXIT_OK = 0;
export const EXIT_MISMATCH = 1;
export const EXIT_USAGE = 2;

export interface CliContext {
  args: ParsedArgs;
  /** Configuration from the environment, overridden by flags of the same name. */
  config(): Config;
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal: Promise<string>;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** e.g. "replay <accountId> [--json]" */
  usage: string;
  flags: Record<string, FlagSpec>;
  positionals?: { min: number; max: number };
  /** Reads only (SPEC §15): configuration creates no directory and the store is opened read-only. */
  readOnly?: boolean;
  run(context: CliContext): Promise<number>;
}
