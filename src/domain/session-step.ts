// One event applied to an account's active session: the start mapping, which session an event
// belongs to, and the event's time. The decider's evolve, the accrual fold and the sweeper's index
// all step through here, so the rule is written once.
import type { MiningEvent, MiningStartedData } from './events.js';
import {
  closeSession, openSession, recordHeartbeat, type Interval, type SessionAccrual, type SessionStart,
} from './session.js';
import { parseIso } from './time.js';

/**
 * What one event did to the active session. Every variant has the same three fields, so the folds
 * that read a step see one object shape (the step is on the hot path of a rebuild).
 */
export type SessionStep =
  /** A start: `session` is the new active session (it replaces any other). */
  | { readonly kind: 'opened'; readonly session: SessionAccrual; readonly interval: null }
  /** A heartbeat of the active session: `session` is that session moved on. */
  | { readonly kind: 'heartbeat'; readonly session: SessionAccrual; readonly interval: Interval }
  /** A stop of the active session: `session` is the ended session; none is active afterwards. */
  | { readonly kind: 'closed'; readonly session: SessionAccrual; readonly interval: Interval }
  /** A heartbeat or stop of another session, or with none active: it changes nothing. */
  | { readonly kind: 'ignored'; readonly session: null; readonly interval: null }
  /** An adjustment: it touches no session, credited time or deadline (SPEC §10). */
  | { readonly kind: 'untouched'; readonly session: null; readonly interval: null };

const IGNORED: SessionStep = Object.freeze({ kind: 'ignored', session: null, interval: null });
const UNTOUCHED: SessionStep = Object.freeze({ kind: 'untouched', session: null, interval: null });

/** The epoch-ms time of an event; a time that is not a strict ISO instant is a corrupt event. */
export function eventTimeOf(event: MiningEvent): number {
  const at = parseIso(event.data.at);
  if (at === undefined) throw new Error(`event ${event.type} has an invalid time "${event.data.at}"`);
  return at;
}

/** The session a MiningStarted opens, with the R, T and M it was started with. */
export function sessionStartOf(data: MiningStartedData, at: number): SessionStart {
  return {
    sessionId: data.sessionId,
    accountId: data.accountId,
    at,
    rateUnitsPerHour: BigInt(data.rateUnitsPerHour),
    heartbeatTimeoutMs: data.heartbeatTimeoutMs,
    maxSessionMs: data.maxSessionMs,
  };
}

/** The session an event names: its own for a start, heartbeat or stop; none for an adjustment. */
export function sessionIdOf(event: MiningEvent): string | null {
  return event.type === 'BalanceAdjusted' ? null : event.data.sessionId;
}

/** A heartbeat or stop belongs to the active session only when it names that session. */
export function belongsTo(active: SessionAccrual | null, sessionId: string): active is SessionAccrual {
  return active !== null && active.sessionId === sessionId;
}

/** Applies one event, at `at` (eventTimeOf(event)), to the active session. */
export function stepSession(active: SessionAccrual | null, event: MiningEvent, at: number): SessionStep {
  switch (event.type) {
    case 'MiningStarted':
      return { kind: 'opened', session: openSession(sessionStartOf(event.data, at)), interval: null };
    case 'Heartbeat': {
      if (!belongsTo(active, event.data.sessionId)) return IGNORED;
      const { session, interval } = recordHeartbeat(active, at);
      return { kind: 'heartbeat', session, interval };
    }
    case 'MiningStopped': {
      if (!belongsTo(active, event.data.sessionId)) return IGNORED;
      const { session, interval } = closeSession(active, at, event.data.reason);
      return { kind: 'closed', session, interval };
    }
    case 'BalanceAdjusted':
      return UNTOUCHED;
  }
}
