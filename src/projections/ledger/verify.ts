// `verify`: every account replayed from the event store and compared with the read model. One pass
// over the log folds a partition of the accounts (bounded memory: partitions are sized from the
// read model's account count), then the read model's own rows are walked to catch accounts that
// the store does not know.
import { ChainFollower, type ChainBreak } from '../../audit/chain.js';
import type { MiningStore } from '../../commands/codec.js';
import { applyEvent, emptyAccrual, type AccountAccrual, type AccrualOptions } from '../../domain/accrual.js';
import { accountOf } from '../../domain/events.js';
import { differencesOf, ProjectionLagError } from './audit.js';
import { replayStream, type LedgerSink, type ReplayTotals } from './ledger.js';
import { pageReader } from '../projector/page-reader.js';
import { createQueries, type ReadModelQueries } from '../read-model/queries.js';
import type { ReadModel } from '../read-model/read-model.js';
import { openReadonly } from '../read-model/schema.js';
import { shardOf } from '../../sweeper/shard.js';

export interface Mismatch {
  accountId: string;
  differences: string[];
}

export interface VerifySummary {
  accounts: number;
  events: number;
  mismatches: number;
  /** Passes over the log (more than one when the accounts do not fit in one). */
  passes: number;
  /** The store's head when verification began: everything up to it was checked. */
  position: bigint;
  /** Hash chains (SPEC §12): streams with a broken link, events chained, events from before the chain. */
  chainBreaks: number;
  chained: number;
  unchained: number;
}

export interface VerifyOptions {
  store: MiningStore;
  /** A ReadModel kept current by a projector (for the catch-up wait). */
  readModel: ReadModel;
  readModelPath: string;
  catchUpTimeoutMs?: number;
  maxAccountsPerPass?: number;
  onMismatch?: (mismatch: Mismatch) => void;
  /** A stream's first broken link. */
  onChainBreak?: (broken: ChainBreak) => void;
  /** Checked between pages of the log; true stops with VerifyInterruptedError. */
  shouldStop?: () => boolean;
}

export class VerifyInterruptedError extends Error {
  override readonly name = 'VerifyInterruptedError';
}

interface Fold {
  accrual: AccountAccrual;
  revision: bigint | null;
  lastPosition: bigint;
  chain: ChainFollower;
}

const TOTALS_ONLY: AccrualOptions = { keepSessions: false };
const NOTHING: LedgerSink = { sessionStarted() {}, interval() {}, sessionEnded() {} };

/** Verify's partitions of the accounts are the sweeper's shards (one hash for both). */
function partitionOf(accountId: string, partitions: number): number {
  return partitions === 1 ? 0 : shardOf(accountId, partitions);
}

function totalsOf(fold: Fold | undefined): ReplayTotals {
  const accrual = fold?.accrual ?? emptyAccrual();
  return {
    events: accrual.events, ignored: accrual.ignored, sessions: 0, streamRevision: fold?.revision ?? null,
    lastPosition: fold?.lastPosition ?? 0n, balanceUnits: accrual.balanceUnits, creditedMs: accrual.creditedMs,
    active: accrual.active?.session ?? null, adjustedUnits: 0n, adjustments: 0,
  };
}

/** Folds every event up to `head` of the accounts in one partition. */
async function foldPartition(
  store: MiningStore, head: bigint, partition: number, partitions: number, shouldStop?: () => boolean,
): Promise<Map<string, Fold>> {
  const folds = new Map<string, Fold>();
  const read = pageReader(store);
  let after = 0n;
  while (after < head) {
    const page = await read(after, 2000);
    if (page.length === 0) break;
    for (const recorded of page) {
      if (recorded.position > head) return folds;
      const accountId = accountOf(recorded.stream);
      if (accountId === undefined || partitionOf(accountId, partitions) !== partition) continue;
      let fold = folds.get(accountId);
      if (!fold) folds.set(accountId, (fold = { accrual: emptyAccrual(), revision: null, lastPosition: 0n, chain: new ChainFollower(recorded.stream) }));
      applyEvent(fold.accrual, recorded.event, TOTALS_ONLY);
      fold.chain.follow(recorded);
      fold.revision = recorded.revision;
      fold.lastPosition = recorded.position;
    }
    after = page[page.length - 1]!.position;
    if (shouldStop?.()) throw new VerifyInterruptedError(`verify interrupted at position ${after}`);
  }
  return folds;
}

/** Compares one account; a row that moved past `head` meanwhile is compared with a replay up to its own position. */
async function compareAccount(
  store: MiningStore, queries: ReadModelQueries, accountId: string, fold: Fold | undefined, head: bigint,
): Promise<string[]> {
  const projected = queries.account(accountId);
  if (projected && projected.position > head) {
    return differencesOf(await replayStream(store, accountId, NOTHING, projected.position), projected);
  }
  return differencesOf(totalsOf(fold), projected);
}

export async function verifyAll(options: VerifyOptions): Promise<VerifySummary> {
  const { store } = options;
  const headPosition = await store.headPosition();
  const head = headPosition === 'start' ? 0n : headPosition;
  const timeoutMs = options.catchUpTimeoutMs ?? 30_000;
  if (!(await options.readModel.waitForPosition(head, timeoutMs))) {
    throw new ProjectionLagError(`the projection did not reach position ${head} within ${timeoutMs} ms`);
  }
  const { db } = openReadonly(options.readModelPath);
  const queries = createQueries(db);
  const summary: VerifySummary = {
    accounts: 0, events: 0, mismatches: 0, passes: 0, position: head, chainBreaks: 0, chained: 0, unchained: 0,
  };
  const report = (accountId: string, differences: string[]) => {
    summary.accounts++;
    if (differences.length === 0) return;
    summary.mismatches++;
    options.onMismatch?.({ accountId, differences });
  };
  try {
    const partitions = Math.max(1, Math.ceil(queries.accountCount() / (options.maxAccountsPerPass ?? 250_000)));
    for (let partition = 0; partition < partitions; partition++) {
      const folds = await foldPartition(store, head, partition, partitions, options.shouldStop);
      summary.passes++;
      for (const [accountId, fold] of folds) {
        summary.events += fold.accrual.events;
        summary.chained += fold.chain.chained;
        summary.unchained += fold.chain.unchained;
        if (fold.chain.broken) {
          summary.chainBreaks++;
          options.onChainBreak?.(fold.chain.broken);
        }
        report(accountId, await compareAccount(store, queries, accountId, fold, head));
      }
      // Rows of accounts the log (up to head) does not have: a projection that invented an account.
      for (let after: string | null = null; ;) {
        const rows = queries.accountRows(after, 1000);
        if (rows.length === 0) break;
        for (const row of rows) {
          if (partitionOf(row.account_id, partitions) !== partition || folds.has(row.account_id)) continue;
          report(row.account_id, await compareAccount(store, queries, row.account_id, undefined, head));
        }
        after = rows[rows.length - 1]!.account_id;
      }
    }
  } finally {
    db.close();
  }
  return summary;
}
