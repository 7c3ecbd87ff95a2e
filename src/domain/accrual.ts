// An account's accrual: a stream's events folded into sessions, credited time and balance.
// The projector and the auditor's replay both use this fold; the rules live in session.ts.
import type { MiningEvent } from './events.js';
import { closeSession, openSession, recordHeartbeat, sessionEarnedUnits, type Interval, type SessionAccrual } from './session.js';
import { parseIso } from './time.js';

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
  const at = parseIso(event.data.at) as number;
  const current = accrual.active;
  switch (event.type) {
    case 'MiningStarted': {
      const d = event.data;
      const session = openSession({
        sessionId: d.sessionId, accountId: d.accountId, at,
        rateUnitsPerHour: BigInt(d.rateUnitsPerHour), heartbeatTimeoutMs: d.heartbeatTimeoutMs, maxSessionMs: d.maxSessionMs,
      });
      const ledger: SessionLedger = { session, intervals: [] };
      accrual.active = ledger;
      if (options.keepSessions !== false) accrual.sessions.push(ledger);
      return;
    }
    case 'Heartbeat':
    case 'MiningStopped': {
      if (!current || current.session.sessionId !== event.data.sessionId) {
        accrual.ignored++;
        return;
      }
      const before = current.session;
      const step = event.type === 'Heartbeat' ? recordHeartbeat(before, at) : closeSession(before, at, event.data.reason);
      current.session = step.session;
      if (options.intervals) current.intervals.push(step.interval);
      settle(accrual, current, before, step.session);
      if (event.type === 'MiningStopped') accrual.active = null;
    }
  }
}

export function accrue(events: Iterable<MiningEvent>, options: AccrualOptions = {}): AccountAccrual {
  const accrual = emptyAccrual();
  for (const event of events) applyEvent(accrual, event, options);
  return accrual;
}
