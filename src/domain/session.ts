// One session's accrual: the rules of credited time, as pure steps shared by the decider,
// the projector and the auditor's ledger. Nothing else in the project re-states them.
import { earnedUnits } from './money.js';
import type { StopReason } from './events.js';
import { formatDuration } from './time.js';

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

/** One stretch between two presence points (or from the last one to the deadline) and its verdict. */
export interface Interval {
  readonly from: number;
  readonly to: number;
  readonly ms: number;
  readonly creditedMs: number;
  readonly credited: boolean;
  readonly why: string;
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

type Verdict = 'offline' | 'clipped' | 'within' | 'timeout' | 'max_duration';

type Kind = 'heartbeat' | 'user stop' | 'stop';
let lastWhy: { verdict: Verdict; kind: Kind; timeoutMs: number; maxSessionMs: number; ms: number; text: string } | null = null;

/**
 * An interval whose explanation is written only when someone reads it: the projector and the
 * decider fold millions of heartbeats and never ask why, the auditor's ledger always does.
 */
class ExplainedInterval implements Interval {
  constructor(
    readonly from: number,
    readonly to: number,
    readonly ms: number,
    readonly creditedMs: number,
    readonly credited: boolean,
    private readonly verdict: Verdict,
    private readonly kind: Kind,
    private readonly timeoutMs: number,
    private readonly maxSessionMs: number,
  ) {}

  get why(): string {
    // Consecutive intervals mostly share their explanation: the last one is kept and handed out again.
    const last = lastWhy;
    if (last !== null && last.verdict === this.verdict && last.kind === this.kind && last.timeoutMs === this.timeoutMs &&
      last.maxSessionMs === this.maxSessionMs && (this.verdict !== 'offline' || last.ms === this.ms)) {
      return last.text;
    }
    const text = this.explain();
    lastWhy = { verdict: this.verdict, kind: this.kind, timeoutMs: this.timeoutMs, maxSessionMs: this.maxSessionMs, ms: this.ms, text };
    return text;
  }

  private explain(): string {
    const timeout = formatDuration(this.timeoutMs);
    switch (this.verdict) {
      case 'offline': return `gap ${formatDuration(this.ms)} > timeout ${timeout}: offline, not credited`;
      case 'clipped': return `${this.kind} within timeout, clipped at max session length ${formatDuration(this.maxSessionMs)}`;
      case 'within': return `${this.kind} within timeout ${timeout}`;
      case 'timeout': return `no heartbeat within timeout ${timeout}: offline until the deadline, not credited`;
      case 'max_duration': return `max session length ${formatDuration(this.maxSessionMs)} reached: not credited after the last heartbeat`;
    }
  }

  toJSON() {
    return { from: this.from, to: this.to, ms: this.ms, creditedMs: this.creditedMs, credited: this.credited, why: this.why };
  }
}

/** The verdict on the gap from the last presence point to a new one at `to`. */
export function presenceInterval(session: SessionAccrual, to: number, kind: 'heartbeat' | 'user stop'): Interval {
  const from = session.lastPresenceAt;
  const ms = Math.max(0, to - from);
  const { heartbeatTimeoutMs: timeout, maxSessionMs } = session;
  if (ms > timeout) return new ExplainedInterval(from, to, ms, 0, false, 'offline', kind, timeout, maxSessionMs);
  const creditedMs = Math.max(0, Math.min(to, maxEndOf(session)) - from);
  const verdict: Verdict = creditedMs < ms ? 'clipped' : 'within';
  return new ExplainedInterval(from, to, ms, creditedMs, verdict === 'within' || creditedMs > 0, verdict, kind, timeout, maxSessionMs);
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
    interval: new ExplainedInterval(from, Math.max(from, at), ms, 0, false, reason, 'stop', session.heartbeatTimeoutMs, session.maxSessionMs),
    session: advanced(session, session.lastPresenceAt, session.lastHeartbeatAt, session.heartbeats, session.creditedMs, at, reason),
  };
}
