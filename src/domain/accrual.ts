// An account's accrual: a stream's events folded into sessions, credited time and balance.
// The projector and the auditor's replay both use this fold; the rules live in session-step.ts
// (which session an event belongs to) and session.ts (credited time).
import type { MiningEvent } from './events.js';
import { sessionEarnedUnits, type Interval, type SessionAccrual } from './session.js';
import { eventTimeOf, stepSession } from './session-step.js';

export interface SessionLedger {
  session: SessionAccrual;
  /** Present only when the fold was asked to keep intervals (the auditor's ledger). */
  intervals: Interval[];
  /** sessionEarnedUnits(session) as of the last step, when a step computed it. */
  earnedUnits?: bigint;
}

export interface AccountAccrual {
  /** Sessions oldest first; the last may be active. */
  sessions: SessionLedger[];
  active: SessionLedger | null;
  balanceUnits: bigint;
  creditedMs: number;
  events: number;
  /** Events that do not belong to the active session (kept for the auditor, credited nothing). */
  ignored: number;
}

export interface AccrualOptions {
  intervals?: boolean;
  /** Keep only totals and the active session, not every session (bounded memory for verify). */
  keepSessions?: boolean;
}

export function emptyAccrual(): AccountAccrual {
  return { sessions: [], active: null, balanceUnits: 0n, creditedMs: 0, events: 0, ignored: 0 };
}

/**
 * Moves the totals by the session's step. The ledger remembers its session's earnings, so each step
 * computes one product of bigints instead of two (and the core keeps no state of its own).
 */
function settle(accrual: AccountAccrual, ledger: SessionLedger, before: SessionAccrual, after: SessionAccrual): void {
  if (after.creditedMs === before.creditedMs && after.rateUnitsPerHour === before.rateUnitsPerHour) return;
  accrual.creditedMs += after.creditedMs - before.creditedMs;
  const earnedBefore = ledger.earnedUnits ?? sessionEarnedUnits(before);
  const earnedAfter = sessionEarnedUnits(after);
  ledger.earnedUnits = earnedAfter;
  accrual.balanceUnits += earnedAfter - earnedBefore;
}

/** Applies one event to an account's accrual, in place (the fold is hot in rebuilds). */
export function applyEvent(accrual: AccountAccrual, event: MiningEvent, options: AccrualOptions = {}): void {
  accrual.events++;
  // Balance = Σ session earnings + Σ adjustments (SPEC §10); an adjustment touches no session.
  if (event.type === 'BalanceAdjusted') {
    accrual.balanceUnits += BigInt(event.data.amountUnits);
    return;
  }
  const current = accrual.active;
  const step = stepSession(current === null ? null : current.session, event, eventTimeOf(event));
  switch (step.kind) {
    case 'opened': {
      const ledger: SessionLedger = { session: step.session, intervals: [] };
      accrual.active = ledger;
      if (options.keepSessions !== false) accrual.sessions.push(ledger);
      return;
    }
    case 'ignored':
      accrual.ignored++;
      return;
    case 'heartbeat':
    case 'closed': {
      const ledger = current!;
      const before = ledger.session;
      ledger.session = step.session;
      if (options.intervals) ledger.intervals.push(step.interval);
      settle(accrual, ledger, before, step.session);
      if (step.kind === 'closed') accrual.active = null;
      return;
    }
    case 'untouched':
      return;
  }
}

export function accrue(events: Iterable<MiningEvent>, options: AccrualOptions = {}): AccountAccrual {
  const accrual = emptyAccrual();
  for (const event of events) applyEvent(accrual, event, options);
  return accrual;
}
