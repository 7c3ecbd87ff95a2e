// The auditor's ledger, replayed from one account's stream with the domain's accrual: every session
// and every interval between presence points, with its verdict. Streaming, so a stream of a million
// events replays in flat memory; `auditAccount` collects it, `replay` prints it as it goes.
import { ChainFollower, type ChainSummary } from '../../audit/chain.js';
import type { MiningStore } from '../../commands/codec.js';
import { applyEvent, emptyAccrual, type AccrualOptions } from '../../domain/accrual.js';
import { streamOf, type Actor, type AdjustmentReason, type MiningEvent } from '../../domain/events.js';
import { parseIso } from '../../domain/time.js';
import type { Interval, SessionAccrual } from '../../domain/session.js';

/** A BalanceAdjusted as the ledger lists it (SPEC §10). */
export interface LedgerAdjustment {
  adjustmentId: string;
  at: number;
  amountUnits: bigint;
  reason: AdjustmentReason;
  note: string;
  reference: string | null;
  /** From the event's metadata; null only when a page reader could not supply it. */
  actor: Actor | null;
}

export interface LedgerSink {
  /** An adjustment, in stream order (so in time order, between or within sessions). */
  adjustment?(adjustment: LedgerAdjustment): void;
  sessionStarted(session: SessionAccrual): void;
  /** `toText` is the interval's end as the event wrote it, when it is the event's own time (saves formatting). */
  interval(interval: Interval, toText?: string): void;
  /** A session's final state: stopped, or still open when the stream ends. */
  sessionEnded(session: SessionAccrual): void;
  /** Called every few thousand events, so a printing sink can wait for its output to drain. */
  drain?(): Promise<void>;
  /** A MiningStopped event's write time, just before the session it ends is reported (the sweeper's lag is recordedAt − at). */
  stopRecorded?(sessionId: string, recordedAt: string): void;
}

export interface ReplayTotals {
  events: number;
  /** Events that belonged to no active session (they credit nothing). */
  ignored: number;
  sessions: number;
  streamRevision: bigint | null;
  /** Global position of the last event replayed (0n when none). */
  lastPosition: bigint;
  balanceUnits: bigint;
  creditedMs: number;
  active: SessionAccrual | null;
  /** The stream's hash chain as far as it was replayed (SPEC §12); unset where no stream was read. */
  chain?: ChainSummary;
  /** Σ adjustments (included in balanceUnits) and how many there were. */
  adjustedUnits: bigint;
  adjustments: number;
}

const WITH_INTERVALS: AccrualOptions = { intervals: true, keepSessions: false };
const DRAIN_EVERY = 1024;
/** Events read through the port before a long stream switches to the embedded store's large pages. */
const FIRST_READ = 1000;

/** Replays an account's stream up to (and including) `untilPosition` into a sink. */
export async function replayStream(
  store: MiningStore,
  accountId: string,
  sink: LedgerSink,
  untilPosition: bigint | null = null,
): Promise<ReplayTotals> {
  const accrual = emptyAccrual();
  let streamRevision: bigint | null = null;
  let lastPosition = 0n;
  let sessions = 0;
  let adjustedUnits = 0n;
  let adjustments = 0;

  function fold(event: MiningEvent, actor: Actor | null): void {
    if (event.type === 'BalanceAdjusted') {
      applyEvent(accrual, event, WITH_INTERVALS);
      const d = event.data;
      const amountUnits = BigInt(d.amountUnits);
      adjustedUnits += amountUnits;
      adjustments++;
      sink.adjustment?.({
        adjustmentId: d.adjustmentId, at: parseIso(d.at)!, amountUnits, reason: d.reason, note: d.note, reference: d.reference ?? null, actor,
      });
      return;
    }
    const before = accrual.active;
    applyEvent(accrual, event, WITH_INTERVALS);
    if (event.type === 'MiningStarted') {
      // A start over an open session (never decided, but possible in a foreign stream) leaves it open.
      if (before) sink.sessionEnded(before.session);
      sink.sessionStarted(accrual.active!.session);
      sessions++;
    } else if (before && before.intervals.length > 0) {
      const at = before.session.stoppedAt ?? before.session.lastHeartbeatAt;
      for (const interval of before.intervals) sink.interval(interval, interval.to === at ? event.data.at : undefined);
      before.intervals.length = 0;
      if (accrual.active === null) sink.sessionEnded(before.session);
    }
  }

  const stream = streamOf(accountId);
  let chain = new ChainFollower(stream);
  const streamPages = store.capabilities?.streamPages;
  let stopped = false;
  // The port's read first: most streams end within it. A longer one in a store with `streamPages`
  // goes on in large pages, read and validated on a worker thread while this one folds and prints.
  for await (const recorded of store.readStream(stream, streamPages === undefined ? {} : { maxCount: FIRST_READ })) {
    if (untilPosition !== null && recorded.position > untilPosition) {
      stopped = true;
      break;
    }
    const { event, metadata } = recorded;
    if (event.type === 'MiningStopped') sink.stopRecorded?.(event.data.sessionId, metadata.recordedAt);
    fold(event, metadata.actor);
    chain.follow(recorded);
    streamRevision = recorded.revision;
    lastPosition = recorded.position;
    if (accrual.events % DRAIN_EVERY === 0) await sink.drain?.();
  }
  if (streamPages !== undefined && !stopped && accrual.events === FIRST_READ) {
    for await (const page of streamPages(stream, streamRevision! + 1n, chain.state(), { untilPosition })) {
      chain = new ChainFollower(stream, page.chain);
      for (let i = 0; i < page.events.length; i++) {
        const event = page.events[i]!;
        if (event.type === 'MiningStopped' && sink.stopRecorded) sink.stopRecorded(event.data.sessionId, page.recordedAt(i));
        fold(event, page.actors?.get(i) ?? null);
        if (accrual.events % DRAIN_EVERY === 0) await sink.drain?.();
      }
      streamRevision = page.lastRevision!;
      lastPosition = page.lastPosition!;
    }
  }
  if (accrual.active) sink.sessionEnded(accrual.active.session);
  return {
    events: accrual.events, ignored: accrual.ignored, sessions, streamRevision, lastPosition,
    balanceUnits: accrual.balanceUnits, creditedMs: accrual.creditedMs, active: accrual.active?.session ?? null,
    chain: chain.summary(),
    adjustedUnits, adjustments,
  };
}

/** Position of the stream's last event, or null when the account has none. */
export async function lastPositionOf(store: MiningStore, accountId: string): Promise<bigint | null> {
  for await (const recorded of store.readStream(streamOf(accountId), { direction: 'backwards', maxCount: 1 })) {
    return recorded.position;
  }
  return null;
}
