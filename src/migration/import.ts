// `import`: opening balances from a legacy system, as BalanceAdjusted events with reason
// `migration` (SPEC §10). The whole file is checked first and nothing is written when any line is
// bad; then it is read again and written with a window of concurrent adjusts (the store commits
// them in groups). Ids are UUIDv5 over the row, so running the same file again writes nothing.
import { v5 as uuidV5 } from 'uuid';
import type { Adjuster } from '../commands/adjust.js';
import type { CommandContext } from '../commands/codec.js';
import { accountSet } from './account-set.js';
import { readRows, type ImportFormat, type ImportRow } from './rows.js';

/** The namespace of import ids: UUIDv5 of this URL in the URL namespace (RFC 9562). */
export const IMPORT_NAMESPACE = uuidV5('https://mining-ledger.invalid/import/opening-balance', uuidV5.URL);
export const IMPORT_NOTE = 'opening balance imported from the legacy system';

/** The adjustmentId of a row: the same row gives the same id in every run. */
export function importAdjustmentId(row: Pick<ImportRow, 'accountId' | 'balanceUnits' | 'reference'>): string {
  return uuidV5(`${row.accountId}\n${row.balanceUnits}\n${row.reference ?? ''}`, IMPORT_NAMESPACE);
}

export interface CheckSummary {
  rows: number;
  accounts: number;
  totalUnits: bigint;
  /** Rows with balance 0: valid, nothing to write (an adjustment is never zero). */
  zero: number;
  badLines: number;
}

/** Reads the whole file; reports each bad line (a repeated account included) and counts the rest. */
export async function checkFile(path: string, format: ImportFormat, onBadLine: (line: number, reason: string) => void): Promise<CheckSummary> {
  const seen = accountSet();
  const summary: CheckSummary = { rows: 0, accounts: 0, totalUnits: 0n, zero: 0, badLines: 0 };
  for await (const result of readRows(path, format)) {
    summary.rows++;
    if (!result.ok) {
      summary.badLines++;
      onBadLine(result.line, result.reason);
      continue;
    }
    const { row } = result;
    const first = seen.firstLineOf(row.accountId, row.line);
    if (first !== 0) {
      summary.badLines++;
      onBadLine(row.line, `account ${row.accountId} already has a row (line ${first}); one row per account`);
      continue;
    }
    summary.accounts++;
    summary.totalUnits += row.balanceUnits;
    if (row.balanceUnits === 0n) summary.zero++;
  }
  return summary;
}

export interface WriteProgress {
  done: number;
  total: number;
  elapsedMs: number;
}

export interface WriteSummary {
  written: number;
  alreadyPresent: number;
  /** Rows not attempted because a stop was asked for. */
  interrupted: boolean;
}

export interface WriteOptions {
  path: string;
  format: ImportFormat;
  adjuster: Adjuster;
  context: CommandContext;
  /** Rows to write (from checkFile), for progress. */
  total: number;
  /** Adjusts in flight at once (default 256). */
  concurrency?: number;
  onProgress?: (progress: WriteProgress) => void;
  shouldStop?: () => boolean;
  now?: () => number;
}

export class ImportConflictError extends Error {
  override readonly name = 'ImportConflictError';
}

/** Writes every row of a checked file; a row already in the store is counted, not written again. */
export async function writeRows(options: WriteOptions): Promise<WriteSummary> {
  const { adjuster, context } = options;
  const concurrency = options.concurrency ?? 256;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const summary: WriteSummary = { written: 0, alreadyPresent: 0, interrupted: false };
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  let failure: unknown;

  async function one(row: ImportRow): Promise<void> {
    const result = await adjuster.adjust(row.accountId, {
      adjustmentId: importAdjustmentId(row), amountUnits: row.balanceUnits, reason: 'migration', note: IMPORT_NOTE,
      reference: row.reference,
    }, context);
    if (result.decision.error) {
      // Ids come from the row's content, so a conflict means someone wrote this id by hand.
      throw new ImportConflictError(`line ${row.line}: account ${row.accountId}: ${result.decision.error}; the import stopped`);
    }
    if (result.decision.created) summary.written++;
    else summary.alreadyPresent++;
  }

  for await (const result of readRows(options.path, options.format)) {
    if (failure !== undefined) break;
    if (options.shouldStop?.()) {
      summary.interrupted = true;
      break;
    }
    // The file was checked; a line that no longer reads well means it changed underneath.
    if (!result.ok) throw new ImportConflictError(`line ${result.line} changed since the check: ${result.reason}`);
    if (result.row.balanceUnits === 0n) continue;
    const task: Promise<void> = one(result.row).then(
      () => {
        inFlight.delete(task);
        done++;
        if (done % 1000 === 0) options.onProgress?.({ done, total: options.total, elapsedMs: now() - started });
      },
      (error: unknown) => {
        inFlight.delete(task);
        failure ??= error;
      },
    );
    inFlight.add(task);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  options.onProgress?.({ done, total: options.total, elapsedMs: now() - started });
  return summary;
}
