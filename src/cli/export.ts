// `export [--from ISO] [--to ISO] [--account ID] [--format csv|ndjson] [--output FILE]`: what an
// accountant loads into a sheet (SPEC §10), streamed from a snapshot of the event store.
import { createWriteStream, openSync, renameSync, rmSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { isValidAccountId } from '../domain/events.js';
import { exportLedger, type ExportFormat } from '../projections/ledger/export.js';
import { openEventStore } from '../store/open.js';
import { miningCodec } from '../commands/codec.js';
import { stringFlag, UsageError } from './args.js';
import { EXIT_OK, type CliCommand } from './command.js';

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function instantFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = ISO.test(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} must be an ISO-8601 date or time such as 2026-11-01 or 2026-11-01T00:00:00Z, got "${value}"`);
  return ms;
}

export const command: CliCommand = {
  name: 'export',
  summary: 'one row per session and per adjustment, ordered by time, as CSV or NDJSON: what an accountant loads into a sheet',
  usage: 'export [--from ISO] [--to ISO] [--account ID] [--format csv|ndjson] [--output FILE]',
  flags: {
    from: { type: 'string', value: '<ISO>', description: 'rows at or after this time (a session counts at its end)' },
    to: { type: 'string', value: '<ISO>', description: 'rows before this time' },
    account: { type: 'string', value: '<accountId>', description: 'one account only (default: all)' },
    format: { type: 'string', value: 'csv|ndjson', description: 'default csv (RFC 4180, with a header line)' },
    output: { type: 'string', value: '<file>', description: 'write here instead of standard output (replaced only when complete)' },
  },
  async run(context) {
    const { args } = context;
    const from = instantFlag(stringFlag(args, 'from'), 'from');
    const to = instantFlag(stringFlag(args, 'to'), 'to');
    if (from !== undefined && to !== undefined && from >= to) throw new UsageError('--from must be before --to');
    const accountId = stringFlag(args, 'account');
    if (accountId !== undefined && !isValidAccountId(accountId)) throw new UsageError(`--account "${accountId}" is not a valid account id`);
    const format = stringFlag(args, 'format') ?? 'csv';
    if (format !== 'csv' && format !== 'ndjson') throw new UsageError('--format must be csv or ndjson');
    const output = stringFlag(args, 'output');
    const config = context.config();
    const store = await openEventStore(config.eventStoreUrl, { codec: miningCodec });
    // A file is written aside and renamed, so a failed export never leaves half a sheet under its name.
    const partial = output === undefined ? undefined : `${output}.partial-${process.pid}`;
    let fd: number | undefined;
    try {
      if (partial !== undefined) fd = openSync(partial, 'wx');
    } catch (error) {
      await store.close();
      throw new UsageError(`--output: cannot write ${output}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const out = fd === undefined ? context.stdout : createWriteStream('', { fd });
    try {
      const summary = await exportLedger({ store, from, to, accountId, format: format as ExportFormat, out });
      if (partial !== undefined) {
        out.end();
        await finished(out);
        renameSync(partial, output!);
        context.stderr.write(`exported ${summary.rows} rows (${summary.sessions} sessions, ${summary.adjustments} adjustments) ` +
          `up to position ${summary.position} to ${output}\n`);
      }
      return EXIT_OK;
    } catch (error) {
      if (partial !== undefined) {
        out.destroy();
        rmSync(partial, { force: true });
      }
      throw error;
    } finally {
      await store.close();
    }
  },
};
