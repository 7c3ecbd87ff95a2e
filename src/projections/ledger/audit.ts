// The auditor's ledger of one account (SPEC §4) as a JSON-ready object: replayed from the event
// store, never from the read model, then set beside what the projection holds.
import { positionAt, type AtPoint } from '../../audit/at.js';
import { chainJson } from '../../audit/chain.js';
import type { Writable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { formatTokens } from '../../domain/money.js';
import { sessionEarnedUnits, type Interval, type SessionAccrual } from '../../domain/session.js';
import { intervalWhy, whyWriter } from './interval-why.js';
import type { Actor } from '../../domain/events.js';
import { toIso } from '../../domain/time.js';
import type { MiningStore } from '../../commands/codec.js';
import { lastPositionOf, replayStream, type LedgerAdjustment, type ReplayTotals } from './ledger.js';
import { BufferedOutput, jsonPrinter } from './ledger-format.js';
import type { AccountView, ReadModel } from '../read-model/read-model.js';
import type { AdjustmentJson, AuditLedger, LedgerInterval, LedgerSession } from './schema.js';

// The ledger's shape is the TypeBox schema in schema.ts; these names stay importable from here.
export type { AdjustmentJson, AuditLedger, LedgerInterval, LedgerSession } from './schema.js';

export function adjustmentJson(adjustment: Omit<LedgerAdjustment, 'actor'> & { actor: Actor | null }): AdjustmentJson {
  return {
    adjustmentId: adjustment.adjustmentId,
    at: toIso(adjustment.at),
    amount: formatTokens(adjustment.amountUnits),
    amountUnits: adjustment.amountUnits.toString(),
    reason: adjustment.reason,
    note: adjustment.note,
    reference: adjustment.reference,
    actor: adjustment.actor,
  };
}

/** The projection did not reach the account's last event in time: nothing to compare with yet. */
export class ProjectionLagError extends Error {
  override readonly name = 'ProjectionLagError';
}

export function ledgerInterval(interval: Interval, why: (interval: Interval) => string = intervalWhy): LedgerInterval {
  return {
    from: toIso(interval.from), to: toIso(interval.to), ms: interval.ms,
    credited: interval.credited, creditedMs: interval.creditedMs, why: why(interval),
  };
}

/** A session's fields without intervals; figures are final once the session has ended. */
export function ledgerSession(session: SessionAccrual, intervals: LedgerInterval[] = []): LedgerSession {
  return {
    sessionId: session.sessionId,
    startedAt: toIso(session.startedAt),
    stoppedAt: session.stoppedAt === null ? null : toIso(session.stoppedAt),
    reason: session.reason,
    ratePerHour: formatTokens(session.rateUnitsPerHour),
    heartbeatTimeoutMs: session.heartbeatTimeoutMs,
    maxSessionMs: session.maxSessionMs,
    heartbeats: session.heartbeats,
    creditedMs: session.creditedMs,
    earnedUnits: sessionEarnedUnits(session).toString(),
    intervals,
  };
}

/** Where replay and projection disagree, in words; empty when they agree. */
export function differencesOf(replayed: ReplayTotals, projected: AccountView | null): string[] {
  const differences: string[] = [];
  const compare = (what: string, mine: unknown, theirs: unknown) => {
    if (mine !== theirs) differences.push(`${what}: replayed ${String(mine)}, projected ${String(theirs)}`);
  };
  compare('balanceUnits', replayed.balanceUnits, projected?.balanceUnits ?? 0n);
  compare('creditedMs', replayed.creditedMs, projected?.creditedMs ?? 0);
  compare('streamRevision', replayed.streamRevision ?? 'none', projected?.streamRevision ?? 'none');
  compare('activeSession', replayed.active?.sessionId ?? 'none', projected?.active?.sessionId ?? 'none');
  if (replayed.active && projected?.active && replayed.active.sessionId === projected.active.sessionId) {
    compare('activeSession.creditedMs', replayed.active.creditedMs, projected.active.creditedMs);
  }
  return differences;
}

export interface ComparisonPlan {
  /** Replay up to here: the projected row's position, so both sides describe the same events. */
  untilPosition: bigint | null;
  projected: AccountView | null;
}

/**
 * Lets the projection catch up with the account's last event, then takes its row. Replaying up to
 * the row's own position makes the comparison exact even while new events keep arriving.
 */
export async function planComparison(
  store: MiningStore, readModel: ReadModel, accountId: string, catchUpTimeoutMs: number,
): Promise<ComparisonPlan> {
  const last = await lastPositionOf(store, accountId);
  if (last !== null && !(await readModel.waitForPosition(last, catchUpTimeoutMs))) {
    throw new ProjectionLagError(`the projection did not reach position ${last} within ${catchUpTimeoutMs} ms`);
  }
  const projected = readModel.account(accountId);
  const untilPosition = projected && last !== null && projected.position > last ? projected.position : last;
  return { untilPosition, projected };
}

export interface AuditOptions {
  store: MiningStore;
  readModel: ReadModel;
  accountId: string;
  /** How long to wait for the projection to reach the account's last event (default 2000 ms). */
  catchUpTimeoutMs?: number;
  /** The ledger as the store held it at this point (SPEC §12). */
  at?: AtPoint;
}

/**
 * Where a ledger "at" a point stops, or null when the point lies at or past the account's last
 * event (the present ledger, compared with the projection as usual).
 */
export async function historicalPosition(store: MiningStore, accountId: string, at: AtPoint | undefined): Promise<bigint | null> {
  if (at === undefined) return null;
  const last = await lastPositionOf(store, accountId);
  if (last === null) return null;
  const position = await positionAt(store, accountId, at);
  return position >= last ? null : position;
}

/** The ledger of one account. Throws ProjectionLagError when the projection stays behind. */
export async function auditAccount(options: AuditOptions): Promise<AuditLedger> {
  const { store, readModel, accountId } = options;
  const until = await historicalPosition(store, accountId, options.at);
  const plan = until === null
    ? await planComparison(store, readModel, accountId, options.catchUpTimeoutMs ?? 2000)
    : { untilPosition: until, projected: readModel.account(accountId) };
  const sessions: LedgerSession[] = [];
  const adjustments: AdjustmentJson[] = [];
  let intervals: LedgerInterval[] = [];
  const stopsRecordedAt = new Map<string, string>();
  const why = whyWriter();
  const totals = await replayStream(store, accountId, {
    stopRecorded(sessionId, recordedAt) {
      stopsRecordedAt.set(sessionId, recordedAt);
    },
    adjustment(adjustment) {
      adjustments.push(adjustmentJson(adjustment));
    },
    sessionStarted() {
      intervals = [];
    },
    interval(interval) {
      intervals.push(ledgerInterval(interval, why));
    },
    sessionEnded(session) {
      sessions.push({ ...ledgerSession(session, intervals), stopRecordedAt: session.stoppedAt === null ? null : stopsRecordedAt.get(session.sessionId) ?? null });
      stopsRecordedAt.delete(session.sessionId);
      intervals = [];
    },
  }, plan.untilPosition);
  const differences = until === null ? differencesOf(totals, plan.projected) : [];
  return {
    accountId,
    streamRevision: totals.streamRevision === null ? null : totals.streamRevision.toString(),
    events: totals.events,
    sessions,
    adjustments,
    adjustedUnits: totals.adjustedUnits.toString(),
    creditedMs: totals.creditedMs,
    replayedBalanceUnits: totals.balanceUnits.toString(),
    projectedBalanceUnits: (plan.projected?.balanceUnits ?? 0n).toString(),
    projectedPosition: (plan.projected?.position ?? 0n).toString(),
    matches: differences.length === 0,
    differences,
    chain: chainJson(totals.chain),
    ...(until === null ? {} : { asOf: { at: options.at!.text, position: until.toString(), compared: false as const } }),
  };
}

/** An audit whose comparison is planned (so a lagging projection fails before any byte is sent). */
export interface LedgerStream {
  /** Writes the ledger JSON (the shape of `replay --json`) to `out` as it is replayed. */
  write(out: Writable): Promise<void>;
}

/** The reader of an audit went away: the replay stops instead of filling a buffer nobody reads. */
export class AuditAbortedError extends Error {
  override readonly name = 'AuditAbortedError';
}

/** Longest stretch of folding before other requests get the event loop (ms). */
const AUDIT_SLICE_MS = 5;

/**
 * The ledger of one account, streamed: memory stays flat however long the stream is, and the fold
 * gives the event loop back every few milliseconds so other requests are not held up (SPEC §15).
 */
export async function auditStream(options: AuditOptions): Promise<LedgerStream> {
  const { store, readModel, accountId } = options;
  const until = await historicalPosition(store, accountId, options.at);
  const plan = until === null
    ? await planComparison(store, readModel, accountId, options.catchUpTimeoutMs ?? 2000)
    : { untilPosition: until, projected: readModel.account(accountId) };
  return {
    async write(out) {
      const buffered = new BufferedOutput(out);
      const printer = jsonPrinter(buffered, accountId);
      let sliceStart = performance.now();
      const totals = await replayStream(store, accountId, {
        stopRecorded: (sessionId, recordedAt) => printer.stopRecorded?.(sessionId, recordedAt),
        adjustment: (adjustment) => printer.adjustment?.(adjustment),
        sessionStarted: (session) => printer.sessionStarted(session),
        interval: (interval, toText) => printer.interval(interval, toText),
        sessionEnded: (session) => printer.sessionEnded(session),
        async drain() {
          if (out.destroyed) throw new AuditAbortedError(`audit of ${accountId} abandoned by its reader`);
          await printer.drain?.();
          if (performance.now() - sliceStart >= AUDIT_SLICE_MS) {
            await yieldToLoop();
            sliceStart = performance.now();
          }
        },
      }, plan.untilPosition);
      // A past ledger is not compared: the projection holds the present (SPEC §12).
      const differences = until === null ? differencesOf(totals, plan.projected) : [];
      await printer.finish(totals, plan.projected, differences, until === null ? undefined : { at: options.at!.text, position: until });
    },
  };
}
