// `doctor [--json]`: checks a deployment — configuration, store, data directory, read-model lag,
// secret, clock, disk, and that a sweeper is doing its work. Read-only: it opens the store and the
// read model without creating either (no store → exit 2). Exit 0 when no check fails, 1 otherwise.
import { existsSync } from 'node:fs';
import { systemClock } from '../commands/clock.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { CHECK_NAMES, runDoctor, type CheckResult } from '../ops/doctor.js';
import { openReadModelProbe, type ReadModelProbe } from '../ops/read-model-probe.js';
import { NoStoreError, openStoreProbe, type StoreProbe } from '../ops/store-probe.js';
import { stringFlag, UsageError, type ParsedArgs } from './args.js';
import { EXIT_MISMATCH, EXIT_OK, EXIT_USAGE, type CliCommand } from './command.js';

/** `--check store,read-model`: only these checks (names with dashes for spaces). */
function onlyChecks(args: ParsedArgs): Set<string> | undefined {
  const text = stringFlag(args, 'check');
  if (text === undefined) return undefined;
  const names = text.split(',').map((n) => n.trim().replace(/-/g, ' ')).filter(Boolean);
  const unknown = names.filter((n) => !(CHECK_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--check takes a comma-separated list of ${CHECK_NAMES.map((n) => n.replace(/ /g, '-')).join(', ')}; got "${text}"`);
  }
  return new Set(names);
}

function printText(out: NodeJS.WritableStream, results: CheckResult[]): void {
  const width = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    out.write(`${r.status.padEnd(4)}  ${r.name.padEnd(width)}  ${r.reason}\n`);
    if (r.action && r.status !== 'ok') out.write(`${' '.repeat(width + 8)}→ ${r.action}\n`);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  out.write(`${failed} failed, ${warned} warned, ${results.length - failed - warned} ok\n`);
}

function report(context: Parameters<CliCommand['run']>[0], results: CheckResult[]): void {
  if (context.args.flags.json === true) {
    const ok = results.every((r) => r.status !== 'fail');
    context.stdout.write(`${JSON.stringify({ ok, checks: results }, null, 2)}\n`);
  } else {
    printText(context.stdout, results);
  }
}

export const command: CliCommand = {
  name: 'doctor',
  summary: 'checks the deployment (store, read model, secret, clock, disk, sweeper); exit 1 when a check fails',
  usage: 'doctor [--json] [--check <names>]',
  flags: {
    json: { type: 'boolean', description: 'print the checks as JSON: {ok, checks: [{name, status, reason, action?}]}' },
    check: { type: 'string', value: '<names>', description: `only these checks, comma-separated: ${CHECK_NAMES.map((n) => n.replace(/ /g, '-')).join(', ')}` },
  },
  async run(context) {
    const only = onlyChecks(context.args);
    let config: Config;
    try {
      config = loadConfig({ ...context.env, ...context.args.config }, { readOnly: true });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      report(context, [{ name: 'configuration', status: 'fail', reason: error.message, action: 'fix the variable named above' }]);
      return EXIT_USAGE;
    }
    if (!existsSync(config.dataDir)) {
      context.stderr.write(`mining-ledger doctor: no data directory ${config.dataDir} (doctor never creates one; check DATA_DIR)\n`);
      return EXIT_USAGE;
    }
    let store: StoreProbe | Error;
    try {
      store = await openStoreProbe(config.eventStoreUrl);
    } catch (error) {
      if (error instanceof NoStoreError || error instanceof ConfigError) {
        context.stderr.write(`mining-ledger doctor: ${error.message}\n`);
        return EXIT_USAGE;
      }
      store = error instanceof Error ? error : new Error(String(error));
    }
    let readModel: ReadModelProbe | Error | undefined;
    try {
      try {
        readModel = openReadModelProbe(config.readModelPath);
      } catch (error) {
        readModel = error instanceof Error ? error : new Error(String(error));
      }
      const results = await runDoctor({ config, store, readModel, now: () => systemClock.now() }, only);
      report(context, results);
      return results.some((r) => r.status === 'fail') ? EXIT_MISMATCH : EXIT_OK;
    } finally {
      if (readModel && !(readModel instanceof Error)) readModel.close();
      if (!(store instanceof Error)) await store.close();
    }
  },
};
