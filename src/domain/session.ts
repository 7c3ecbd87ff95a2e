// One session's accrual: the rules of credited time, as pure steps shared by the decider,
// the projector and the auditor's ledger. Nothing else in the project re-states them.
import { earnedUnits } from './money.js';
import type { StopReason } from './events.js';

export interface SessionAccrual {
  readonly sessionId: string;
  readonly accountId: string;
  readonly startedAt: number;
  readonly rateUnitsPerHour: bigint;
  readonly heartbeatTimeoutMs: number;
  /** 0 = unlimited. */
  readonly maxSessionMs: number;
  /** Time of the last heartbeat, or of the start. */
  readonly lastPresenceAt: number;
  readonly lastHeartbeatAt: number | null;
  readonly heartbeats: number;
  readonly creditedMs: number;
  readonly stoppedAt: number | null;
  readonly reason: StopReason | null;
}

/**
 * Why an interval was credited or not: within the timeout, clipped at the maximum length, a gap
 * beyond the timeout (offline), or the uncredited stretch to a timeout or max-duration deadline.
 */
export type IntervalVerdict = 'offline' | 'clipped' | 'within' | 'timeout' | 'max_duration';
/** What ended the interval: a heartbeat, a user's stop, or a stop at the deadline. */
export type IntervalEnd = 'heartbeat' | 'user stop' | 'stop';

/**
 * One stretch between two presence points (or from the last one to the deadline) and its verdict,
 * as data: the ledger printers put it into words (src/projections/ledger/interval-why.ts).
 */
export interface Interval {
  readonly from: number;
  readonly to: number;
  readonly ms: number;
  readonly creditedMs: number;
  readonly credited: boolean;
  readonly verdict: IntervalVerdict;
  readonly end: IntervalEnd;
  /** The session's T and M, which the verdict was judged against. */
  readonly timeoutMs: number;
  readonly maxSessionMs: number;
}

export interface SessionStart {
  sessionId: string;
  accountId: string;
  at: number;
  rateUnitsPerHour: bigint;
  heartbeatTimeoutMs: number;
  maxSessionMs: number;
}

export function openSession(start: SessionStart): SessionAccrual {
  return {
    sessionId: start.sessionId,
    accountId: start.accountId,
    startedAt: start.at,
    rateUnitsPerHour: start.rateUnitsPerHour,
    heartbeatTimeoutMs: start.heartbeatTimeoutMs,
    maxSessionMs: start.maxSessionMs,
    lastPresenceAt: start.at,
    lastHeartbeatAt: null,
    heartbeats: 0,
    creditedMs: 0,
    stoppedAt: null,
    reason: null,
  };
}

/** The end of the maximum length, or Infinity when the session is unlimited. */
export function maxEndOf(session: SessionAccrual): number {
  return session.maxSessionMs > 0 ? session.startedAt + session.maxSessionMs : Infinity;
}

/** min(lastPresence + T, startedAt + M): the moment an unattended session ends. */
export function deadlineOf(session: SessionAccrual): number {
  return Math.min(session.lastPresenceAt + session.heartbeatTimeoutMs, maxEndOf(session));
}

/** Which bound ends the session: the maximum length wins a tie, since it cannot be extended. */
export function expiryReasonOf(session: SessionAccrual): StopReason {
  return maxEndOf(session) <= session.lastPresenceAt + session.heartbeatTimeoutMs ? 'max_duration' : 'timeout';
}

/** "Past the deadline" is strictly after it: a heartbeat exactly T after the last is on time. */
export function isExpired(session: SessionAccrual, now: number): boolean {
  return now > deadlineOf(session);
}

export function sessionEarnedUnits(session: SessionAccrual): bigint {
  return earnedUnits(session.creditedMs, session.rateUnitsPerHour);
}

function intervalOf(
  from: number, to: number, ms: number, creditedMs: number, credited: boolean,
  verdict: IntervalVerdict, end: IntervalEnd, session: SessionAccrual,
): Interval {
  return { from, to, ms, creditedMs, credited, verdict, end, timeoutMs: session.heartbeatTimeoutMs, maxSessionMs: session.maxSessionMs };
}

/** The verdict on the gap from the last presence point to a new one at `to`. */
export function presenceInterval(session: SessionAccrual, to: number, kind: 'heartbeat' | 'user stop'): Interval {
  const from = session.lastPresenceAt;
  const ms = Math.max(0, to - from);
  if (ms > session.heartbeatTimeoutMs) return intervalOf(from, to, ms, 0, false, 'offline', kind, session);
  const creditedMs = Math.max(0, Math.min(to, maxEndOf(session)) - from);
  const verdict: IntervalVerdict = creditedMs < ms ? 'clipped' : 'within';
  return intervalOf(from, to, ms, creditedMs, verdict === 'within' || creditedMs > 0, verdict, kind, session);
}

/**
 * A session with some fields moved on. Written out field by field, in openSession's order: an object
 * spread per heartbeat costs more than the rest of the step in a fold of a million events.
 */
function advanced(
  session: SessionAccrual,
  lastPresenceAt: number,
  lastHeartbeatAt: number | null,
  heartbeats: number,
  creditedMs: number,
  stoppedAt: number | null,
  reason: StopReason | null,
): SessionAccrual {
  return {
    sessionId: session.sessionId,
    accountId: session.accountId,
    startedAt: session.startedAt,
    rateUnitsPerHour: session.rateUnitsPerHour,
    heartbeatTimeoutMs: session.heartbeatTimeoutMs,
    maxSessionMs: session.maxSessionMs,
    lastPresenceAt,
    lastHeartbeatAt,
    heartbeats,
    creditedMs,
    stoppedAt,
    reason,
  };
}

/** A heartbeat is a presence point: the gap before it is credited when it is within the timeout. */
export function recordHeartbeat(session: SessionAccrual, at: number): { session: SessionAccrual; interval: Interval } {
  const interval = presenceInterval(session, at, 'heartbeat');
  return {
    interval,
    session: advanced(
      session, Math.max(session.lastPresenceAt, at), at, session.heartbeats + 1, session.creditedMs + interval.creditedMs,
      session.stoppedAt, session.reason,
    ),
  };
}

/**
 * A user stop is a presence point and credits its last gap; a timeout or max-duration stop is not,
 * and adds an uncredited interval from the last presence point to the deadline.
 */
export function closeSession(
  session: SessionAccrual,
  at: number,
  reason: StopReason,
): { session: SessionAccrual; interval: Interval } {
  if (reason === 'user') {
    const interval = presenceInterval(session, at, 'user stop');
    return {
      interval,
      session: advanced(
        session, session.lastPresenceAt, session.lastHeartbeatAt, session.heartbeats, session.creditedMs + interval.creditedMs, at, reason,
      ),
    };
  }
  const from = session.lastPresenceAt;
  const ms = Math.max(0, at - from);
  return {
    interval: intervalOf(from, Math.max(from, at), ms, 0, false, reason, 'stop', session),
    session: advanced(session, session.lastPresenceAt, session.lastHeartbeatAt, session.heartbeats, session.creditedMs, at, reason),
  };
}
